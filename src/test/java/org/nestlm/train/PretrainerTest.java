package org.nestlm.train;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.model.ModelConfig;
import org.nestlm.model.Presets;
import org.nestlm.util.DjlRuntime;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

public class PretrainerTest {

    static {
        DjlRuntime.configure();
    }

    /** A tiny model over a 64-token vocabulary. */
    static final ModelConfig MODEL = Presets.get("tiny").resized()
                .vocabSize(64).hiddenSize(32).hybridOverridePattern("M-*-M-").intermediateSize(64)
                .numAttentionHeads(2).numKeyValueHeads(1).headDim(16)
                .mambaNumHeads(2).mambaHeadDim(16).ssmStateSize(8).nGroups(1).convKernel(4).chunkSize(8)
                .build();

    /** Learnable data: a noisy repeating sequence (the next token is mostly determined by the current one). */
    static TokenSource data(int n, long seed) {
        Random r = new Random(seed);
        int[] ids = new int[n];
        for (int i = 1; i < n; i++) {
            ids[i] = r.nextInt(10) == 0 ? r.nextInt(64) : (ids[i - 1] * 7 + 3) % 64;
        }
        return TokenSource.of(ids, 3L * n);
    }

    static PretrainConfig config(long tokens, int checkpointEvery) {
        return new PretrainConfig(tokens, new Batching(16, 4, 2), new PretrainConfig.Schedule(1e-2, 1e-3, 3),
                new OptimizerConfig(0.9, 0.95, 0.1, 1.0), new Cadence(4, 2, checkpointEvery), 5);
    }

    static Pretrainer trainer(Path out, PretrainConfig c) {
        return new Pretrainer(out, c, data(20_000, 1), data(2_000, 2), new PrintStream(new ByteArrayOutputStream()));
    }

    @Test
    void lossFallsAndTheRunDirectoryIsACheckpoint(@TempDir Path out) throws IOException {
        PretrainConfig c = config(16 * 4 * 2 * 24, 8);   // 24 steps
        Pretrainer.Result r = trainer(out, c).run(MODEL, false, 0);
        assertEquals(24, r.steps());
        List<Double> losses = new TrainLog(out).trainLosses();
        assertEquals(24, losses.size());
        assertTrue(losses.get(23) < losses.get(0) - 1.0, "loss should fall: " + losses);
        assertTrue(r.valLoss() < Math.log(64), "validation loss below chance: " + r.valLoss());
        for (String f : List.of("config.json", "model.safetensors", "log.jsonl", "loss.png",
                "train_state/state.json", "train_state/optimizer.safetensors", "train_state/model.safetensors")) {
            assertTrue(Files.exists(out.resolve(f)), f);
        }
        assertTrue(Files.notExists(out.resolve("train_state.tmp")) && Files.notExists(out.resolve("train_state.old")));
    }

    @Test
    void aRestartAfterAKillBeforeTheFirstCheckpointLogsEveryStepOnce(@TempDir Path out) throws IOException {
        Files.writeString(out.resolve("log.jsonl"), RunFixtures.KILLED_LOG);
        Files.writeString(out.resolve(".model.safetensors.5e1d0c.tmp"), "half");   // and a half-written file
        trainer(out, config(16 * 4 * 2 * 4, 8)).run(MODEL, false, 0);   // 4 steps
        assertEquals(List.of(1, 2, 3, 4), RunFixtures.steps(new TrainLog(out).entries()));
        assertTrue(Files.notExists(out.resolve(".model.safetensors.5e1d0c.tmp")));
    }

    @Test
    void aRunDirectoryInUseIsRefusedBeforeAnything(@TempDir Path out) throws IOException {
        Files.writeString(out.resolve("log.jsonl"), RunFixtures.KILLED_LOG);
        try (var other = RunFixtures.lockAsAnotherProcess(out)) {
            IOException e = assertThrows(RunDirectory.InUseException.class,
                    () -> trainer(out, config(16 * 4 * 2 * 4, 8)).run(MODEL, false, 0));
            assertTrue(e.getMessage().contains(out.toString()), e.getMessage());
        }
        assertEquals(RunFixtures.KILLED_LOG, Files.readString(out.resolve("log.jsonl")), "the holder's log untouched");
    }

    /** A run killed after step 6 and resumed from its checkpoint at step 4 ends with the uninterrupted run's files. */
    @Test
    void resumeContinuesTheInterruptedRun(@TempDir Path dir) throws IOException {
        PretrainConfig c = config(16 * 4 * 2 * 12, 4);   // 12 steps, checkpoints at 4, 8, 12
        trainer(dir.resolve("whole"), c).run(MODEL, false, 0);
        Path killed = dir.resolve("killed");
        trainer(killed, c).run(MODEL, false, 6);         // "killed" after step 6: last checkpoint is step 4
        assertEquals(6, new TrainLog(killed).entries().size());
        trainer(killed, c).run(MODEL, true, 0);
        RunFiles.assertSameRun(dir.resolve("whole"), killed);
    }

    @Test
    void refusesToOverwriteOrResumeWithOtherSettings(@TempDir Path out) throws IOException {
        PretrainConfig c = config(16 * 4 * 2 * 4, 4);
        trainer(out, c).run(MODEL, false, 0);
        Exception e = assertThrows(IllegalArgumentException.class, () -> trainer(out, c).run(MODEL, false, 0));
        assertTrue(e.getMessage().contains("--resume"), e.getMessage());
        PretrainConfig other = config(16 * 4 * 2 * 8, 4);
        e = assertThrows(IllegalArgumentException.class, () -> trainer(out, other).run(MODEL, true, 0));
        assertTrue(e.getMessage().contains("differ"), e.getMessage());
    }

    /**
     * Native memory stays flat: after 50 more steps the number of live DJL arrays (every native tensor
     * handle, in every manager) is unchanged, and the resident set has not grown beyond JVM heap noise.
     */
    @Test
    void nativeMemoryStaysFlatOver50Steps(@TempDir Path out) throws IOException {
        PretrainConfig c = new PretrainConfig(16 * 4 * 60, new Batching(16, 4, 1), new PretrainConfig.Schedule(1e-3, 1e-4, 3),
                new OptimizerConfig(0.9, 0.95, 0.1, 1.0), new Cadence(1000, 1, 1000), 5);
        NDManager system = NDManager.newBaseManager().getParentManager();
        long[] arrays = new long[2];
        long[] rss = new long[2];
        trainer(out, c).onStep(step -> {
            if (step == 10 || step == 60) {
                int k = step == 10 ? 0 : 1;
                arrays[k] = liveArrays(system);
                rss[k] = residentKiB();
            }
        }).run(MODEL, false, 0);
        assertEquals(arrays[0], arrays[1], "live native arrays after step 10 vs step 60");
        assertTrue(rss[1] - rss[0] < 256 * 1024, "resident memory grew by " + (rss[1] - rss[0]) + " KiB over 50 steps");
    }

    /** Every NDArray attached anywhere below {@code m} (DJL keeps them in BaseNDManager.resources). */
    static long liveArrays(NDManager m) {
        try {
            java.lang.reflect.Field f = BaseNDManager.class.getDeclaredField("resources");
            f.setAccessible(true);
            long n = 0;
            for (Object r : ((java.util.Map<?, ?>) f.get(m)).values()) {
                n += r instanceof NDManager sub ? liveArrays(sub) : 1;
            }
            return n;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    static long residentKiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", ""));
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
