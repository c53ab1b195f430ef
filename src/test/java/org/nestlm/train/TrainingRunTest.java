package org.nestlm.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.dist.SingleProcess;
import org.nestlm.io.AtomicFiles;
import org.nestlm.model.ConfigJson;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The loop of every training run, with a task that needs no model: a "weight" that each applied update changes, a
 * checkpoint that stores it. Resume, the non-finite-step guard, the log's token counts and the cadence are the loop's.
 */
class TrainingRunTest {

    /** Settings of the test task: steps, the (0-based) steps whose gradient is not finite, the steps of stage 1. */
    public record Settings(int steps, List<Integer> nonFinite, int stage1Steps) {
    }

    /** Stage 1: 10 tokens a step; stage 2: 40 (a longer context). */
    static long tokensAfter(Settings s, int steps) {
        int s1 = Math.min(steps, s.stage1Steps());
        return 10L * s1 + 40L * (steps - s1);
    }

    static TrainingRun.Plan plan(Settings s) {
        return new TrainingRun.Plan("test", s, 1, s.steps(), n -> tokensAfter(s, n), new Cadence(3, 1, 4), 1, "lower --lr");
    }

    /** weight ← weight · 31 + step at every applied update; the checkpoint and the run directory hold it. */
    static final class Counter implements TrainingRun.Task {
        final TrainingRun run;
        final Settings s;
        long weight = 1;

        Counter(TrainingRun run, Settings s) throws IOException {
            this.run = run;
            this.s = s;
            if (run.resumed()) {
                weight = Long.parseLong(Files.readString(run.stateDir().resolve("weight.txt")));
            }
        }

        @Override
        public void step(int step, ObjectNode entry) {
            long next = weight * 31 + step;
            TrainingRun.Update u = run.update(step, () -> {
                if (s.nonFinite().contains(step)) {
                    throw new NonFiniteGradientException("gradient norm NaN");
                }
                weight = next;
                return 1.5;
            }, () -> { });
            entry.put("tokens", run.tokensAfter(step + 1)).put("loss", (double) (weight % 1000));
            u.logNormOrSkip(entry);
        }

        @Override
        public void validate(ObjectNode entry) {
            entry.put("val_loss", (double) (weight % 997));
        }

        @Override
        public void save(Path state) throws IOException {
            AtomicFiles.writeString(state.resolve("weight.txt"), Long.toString(weight));
        }

        @Override
        public void checkpointed(TrainLog log) throws IOException {
            AtomicFiles.writeString(run.out().resolve("weight.txt"), Long.toString(weight));
        }

        @Override
        public String summary(ObjectNode entry) {
            return "loss " + entry.get("loss").asDouble();
        }
    }

    static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream());
    }

    static void train(Path out, Settings s, boolean resume, int stopAfter, PrintStream console) throws IOException {
        try (TrainingRun run = TrainingRun.open(out, plan(s), resume, stopAfter, SingleProcess.INSTANCE, console)) {
            run.loop(new Counter(run, s));
        }
    }

    @Test
    void aResumedRunEndsWithTheUninterruptedRunsFiles(@TempDir Path dir) throws IOException {
        Settings s = new Settings(10, List.of(), 6);
        train(dir.resolve("whole"), s, false, 0, quiet());
        Path killed = dir.resolve("killed");
        train(killed, s, false, 6, quiet());                           // stopped after step 6: checkpoints at 4 and 6
        assertEquals(6, new TrainLog(killed).entries().size());
        assertEquals(6, ConfigJson.MAPPER.readTree(RunDirectory.state(killed).resolve("state.json").toFile()).get("step").asInt());
        // as if killed while step 7 was being logged, after the checkpoint: the resume repeats step 7
        Files.writeString(killed.resolve("log.jsonl"), "{\"step\":7,\"tokens\":1}\n{\"step\":8,\"to",
                java.nio.file.StandardOpenOption.APPEND);
        train(killed, s, true, 0, quiet());
        RunFiles.assertSameRun(dir.resolve("whole"), killed);
        assertEquals(IntStream.rangeClosed(1, 10).boxed().toList(), RunFixtures.steps(new TrainLog(killed).entries()));
    }

    @Test
    void theLogCountsTheTokensOfEveryStageAndValidatesOnCadence(@TempDir Path out) throws IOException {
        Settings s = new Settings(8, List.of(), 5);                     // 5 steps of 10 tokens, then 3 of 40
        train(out, s, false, 0, quiet());
        List<JsonNode> log = new TrainLog(out).entries();
        for (JsonNode e : log) {
            int step = e.get("step").asInt();
            assertEquals(tokensAfter(s, step), e.get("tokens").asLong(), "tokens after step " + step);
            assertTrue(e.has("tokens_per_s"), e.toString());
            assertEquals(step % 3 == 0 || step == 8, e.has("val_loss"), "validation at step " + step);
        }
        assertEquals(50 + 3 * 40, log.getLast().get("tokens").asLong());
        JsonNode state = ConfigJson.MAPPER.readTree(RunDirectory.state(out).resolve("state.json").toFile());
        assertEquals(8, state.get("step").asInt());
        assertEquals(170, state.get("tokens").asLong());
    }

    @Test
    void aNonFiniteStepIsSkippedAndLogged(@TempDir Path out) throws IOException {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        train(out, new Settings(6, List.of(1, 2), 6), false, 0, new PrintStream(text, true));
        List<JsonNode> log = new TrainLog(out).entries();
        assertEquals(6, log.size());
        for (JsonNode e : log) {
            boolean skipped = e.get("step").asInt() == 2 || e.get("step").asInt() == 3;
            assertEquals(skipped, e.has("skipped"), e.toString());
            assertEquals(!skipped, e.has("grad_norm"), e.toString());
        }
        assertTrue(text.toString().contains("warning: step 2 skipped: gradient norm NaN"), text.toString());
    }

    @Test
    void tooManyNonFiniteStepsInARowEndTheRun(@TempDir Path out) {
        List<Integer> always = IntStream.range(0, 20).boxed().toList();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> train(out, new Settings(20, always, 20), false, 0, quiet()));
        int last = TrainingRun.MAX_SKIPPED_STEPS + 1;
        assertTrue(e.getMessage().contains("diverged at step " + last) && e.getMessage().contains("lower --lr"), e.getMessage());
    }

    @Test
    void refusesToOverwriteARunOrToResumeItWithOtherSettings(@TempDir Path out) throws IOException {
        Settings s = new Settings(4, List.of(), 4);
        train(out, s, false, 0, quiet());
        Exception e = assertThrows(IllegalArgumentException.class, () -> train(out, s, false, 0, quiet()));
        assertTrue(e.getMessage().contains("--resume"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> train(out, new Settings(5, List.of(), 4), true, 0, quiet()));
        assertTrue(e.getMessage().contains("differ"), e.getMessage());
        Path empty = out.resolveSibling("empty");
        e = assertThrows(IOException.class, () -> train(empty, s, true, 0, quiet()));
        assertTrue(e.getMessage().contains("nothing to resume"), e.getMessage());
        assertFalse(Files.exists(empty.resolve(RunDirectory.STATE_DIR)));
    }
}
