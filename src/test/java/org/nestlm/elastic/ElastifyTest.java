package org.nestlm.elastic;

import org.nestlm.sizes.Budget;
import org.nestlm.sizes.ElasticModel;
import org.nestlm.sizes.TrainedBudget;

import ai.djl.ndarray.NDArray;
import org.nestlm.model.Tensors;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.model.Architecture;
import org.nestlm.model.ModelConfig;
import org.nestlm.model.NemotronH;
import org.nestlm.model.Presets;
import org.nestlm.train.Batching;
import org.nestlm.train.Cadence;
import org.nestlm.train.OptimizerConfig;
import org.nestlm.train.TokenSource;
import org.nestlm.train.TrainLog;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Elastic distillation on the tiny preset: budgets resolve on target, KD is exact, resume reproduces. */
class ElastifyTest extends org.nestlm.DjlTestBase {

    static final ModelConfig TINY = Presets.get("tiny");
    static NemotronH teacher;
    static final List<Integer> REMOVAL = List.of(5, 1, 3, 0, 4);   // non-attention layers, least important first

    @BeforeAll
    static void build() {
        teacher = NemotronH.initialize(Architecture.fromConfig(TINY), 1, manager);
    }

    @AfterAll
    static void close() {
        teacher.close();
    }

    static TokenSource data(int n, long seed) {
        Random r = new Random(seed);
        int[] ids = new int[n];
        for (int i = 1; i < n; i++) {
            ids[i] = r.nextInt(8) == 0 ? r.nextInt(512) : (ids[i - 1] * 31 + 7) % 512;
        }
        return TokenSource.of(ids, 3L * n);
    }

    static ElastifyConfig config(long tokens, int checkpointEvery) {
        return config(tokens, checkpointEvery, 1);
    }

    /** @param candidates sub-models measured per trained budget at the end (1: the router's most likely) */
    static ElastifyConfig config(long tokens, int checkpointEvery, int candidates) {
        ElastifyConfig d = ElastifyConfig.defaults(List.of("1.0", "0.75", "0.5"), tokens);
        return new ElastifyConfig(d.budgets(), tokens, new Batching(32, 4, 1),
                new ElastifyConfig.Stages(0.75, 2, d.stages().stage2Probs(), 1), new ElastifyConfig.Rates(1e-3, 5e-2, 5),
                new OptimizerConfig(0.9, 0.95, 0.0, 1.0), new ElastifyConfig.Routing(ElastifyConfig.Routing.Mode.LEARNED, 64, false, 1.0, 0.05, 1.0, 10.0),
                new ElastifyConfig.Objective(0.0, 0.0, 0.0, 0.0), new ElastifyConfig.Resolving(0.02, candidates),
                new Cadence(20, 2, checkpointEvery), 3);
    }

    static Elastify elastify(Path out, ElastifyConfig c) {
        return new Elastify(out, c, data(20_000, 1), data(3_000, 2), new PrintStream(new ByteArrayOutputStream()));
    }

    @Test
    void everyResolvedBudgetLiesWithinTwoPercentOfItsTarget(@TempDir Path out) throws IOException {
        ElastifyConfig c = config(32 * 4 * 60, 1000, 4);   // 45 stage-1 + 7 stage-2 steps; the best of 4 candidates kept
        Elastify.Result r = elastify(out, c).run(teacher, REMOVAL, false, 0);
        for (TrainedBudget b : r.budgets()) {
            assertTrue(Math.abs(b.deviation()) <= 0.02, b.budget() + ": " + b.parameters() + " parameters for a target of "
                    + b.target() + " (" + String.format("%+.2f%%", 100 * b.deviation()) + ")");
        }
        assertTrue(Files.exists(out.resolve("elastic.json")) && Files.exists(out.resolve("model.safetensors")));
        assertTrue(Files.exists(out.resolve("kd.png")) && Files.exists(out.resolve("log.jsonl")));
        try (ElasticModel em = ElasticModel.open(out)) {
            assertEquals(3, em.trainedBudgets().size());
            assertEquals(r.budgets().get(2).subnet(), em.resolve(Budget.parse("0.5")).subnet());
        }
    }

    @Test
    void resumeContinuesTheInterruptedRun(@TempDir Path dir) throws IOException {
        ElastifyConfig c = config(32 * 4 * 10, 4);
        elastify(dir.resolve("whole"), c).run(teacher, REMOVAL, false, 0);
        Path killed = dir.resolve("killed");
        elastify(killed, c).run(teacher, REMOVAL, false, 6);    // last checkpoint at step 4
        assertEquals(6, new TrainLog(killed).entries().size());
        elastify(killed, c).run(teacher, REMOVAL, true, 0);
        org.nestlm.train.RunFiles.assertSameRun(dir.resolve("whole"), killed);
    }

    @Test
    void aStage2SplitKeepsEveryStepsTokensInSmallerPasses(@TempDir Path dir) throws IOException {
        ElastifyConfig c = config(32 * 4 * 24, 1000);   // 18 stage-1 + 3 stage-2 steps
        ElastifyConfig.Stages st = c.stages();
        ElastifyConfig split = c.withStages(new ElastifyConfig.Stages(st.stage1Fraction(), st.stage2Multiplier(), st.stage2Probs(), 2));
        assertEquals(2, split.windowsPerMicroBatch(false));
        assertEquals(2, split.microBatches(false));
        assertEquals(4, split.windowsPerMicroBatch(true));
        assertEquals(1, split.microBatches(true));
        elastify(dir.resolve("whole"), c).run(teacher, REMOVAL, false, 0);
        elastify(dir.resolve("split"), split).run(teacher, REMOVAL, false, 0);
        List<com.fasterxml.jackson.databind.JsonNode> a = new TrainLog(dir.resolve("whole")).entries();
        List<com.fasterxml.jackson.databind.JsonNode> b = new TrainLog(dir.resolve("split")).entries();
        assertEquals(c.totalSteps(), b.size());
        int stage2 = 0;
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).get("tokens").asLong(), b.get(i).get("tokens").asLong(), "step " + i);
            if (a.get(i).get("stage").asInt() == 1) {
                assertEquals(a.get(i).get("loss").asDouble(), b.get(i).get("loss").asDouble(), "stage 1 is not split: step " + i);
            } else {
                stage2++;
                assertTrue(Double.isFinite(b.get(i).get("loss").asDouble()));
                assertTrue(a.get(i).get("loss").asDouble() != b.get(i).get("loss").asDouble(), "other windows and draws: step " + i);
            }
        }
        assertEquals(3, stage2);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> c.withStages(new ElastifyConfig.Stages(st.stage1Fraction(), st.stage2Multiplier(), st.stage2Probs(), 3)));
        assertTrue(e.getMessage().contains("--stage2-split 3 does not divide --batch 4"), e.getMessage());
    }

    @Test
    void aRestartAfterAKillBeforeTheFirstCheckpointLogsEveryStepOnce(@TempDir Path out) throws IOException {
        Files.writeString(out.resolve("log.jsonl"), org.nestlm.train.RunFixtures.KILLED_LOG);
        ElastifyConfig c = config(32 * 4 * 3, 1000);
        elastify(out, c).run(teacher, REMOVAL, false, 0);
        assertTrue(c.totalSteps() >= 2, "overlaps the killed run's steps");
        assertEquals(java.util.stream.IntStream.rangeClosed(1, c.totalSteps()).boxed().toList(),
                org.nestlm.train.RunFixtures.steps(new TrainLog(out).entries()));
    }

    @Test
    void kdIsZeroWhenStudentEqualsTeacher() {
        try (NDManager m = manager.newSubManager()) {
            NDArray ids = Tensors.of(m, new long[] {1, 2, 3, 4, 5, 6, 7, 8}, new Shape(2, 4));
            NDArray logits = teacher.forward(ids);
            assertEquals(0.0, Distillation.forwardKl(logits, logits).getFloat(), 1e-7);
            assertEquals(0.0, Distillation.forwardKl(logits, Tensors.add(logits, 3.0)).getFloat(), 1e-6);   // shift-invariant
            assertTrue(Distillation.forwardKl(logits, Tensors.mul(logits, 2)).getFloat() > 0);
        }
    }

    @Test
    void schedulesFollowTheMethod() {
        ElastifyConfig c = config(32 * 4 * 100, 1000);
        int s1 = c.stage1Steps();
        assertEquals(1.0, c.tau(0), 1e-12);
        assertEquals(0.05, c.tau(s1), 1e-12);
        assertEquals(0.05, c.tau(c.totalSteps() - 1), 1e-12);          // held in stage 2
        assertEquals(Math.sqrt(0.05), c.tau(s1 / 2), 1e-2);             // exponential
        assertEquals(1.0, c.scale(0), 1e-12);
        assertEquals(10.0, c.scale(c.totalSteps() - 1), 1e-12);
        assertEquals(List.of(0.5, 0.3, 0.2), ElastifyConfig.defaultStage2Probs(3));
    }
}
