package org.nestlm.demo;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.dist.MpiJobs;
import org.nestlm.io.DType;
import org.nestlm.model.Architecture;
import org.nestlm.model.NemotronH;
import org.nestlm.model.Presets;
import org.nestlm.train.RunFiles;
import org.nestlm.train.TrainLog;
import org.nestlm.util.DjlRuntime;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Minitron-style baseline (b) alone and data-parallel: 2 ranks with 2 micro-batches a step write the bytes of
 * one process with 2 (every file: weights, log, plot), and ranks started with different settings stop with a message.
 * Every run is a fresh JVM ({@link MinitronJob}); the parent is the tiny preset, randomly initialised.
 */
@Tag("slow")
class MinitronTest {

    static final long TIMEOUT_S = 240;

    @TempDir
    static Path dir;
    static Path parent, single;

    @BeforeAll
    static void parentAndOneProcessRun() throws Exception {
        MpiJobs.requireMpirun();
        DjlRuntime.configure();
        parent = dir.resolve("parent");
        try (NDManager m = NDManager.newBaseManager();
             NemotronH model = NemotronH.initialize(Architecture.fromConfig(Presets.get("tiny")), 3, m)) {
            model.save(parent, DType.F32);
        }
        single = dir.resolve("one").resolve("baseline");   // the plot's title names the directory: the same name in each
        MpiJobs.Result r = MpiJobs.exec(job(single, 2, 5), dir.resolve("single.txt"), TIMEOUT_S, Map.of());
        assertEquals(0, r.code(), r.output());
    }

    @Test
    void oneProcessWritesACompleteCheckpoint() throws Exception {
        for (String f : new String[] {"config.json", "model.safetensors", "log.jsonl", "kd.png"}) {
            assertTrue(Files.isRegularFile(single.resolve(f)), f);
        }
        assertFalse(Files.exists(dir.resolve("one").resolve(".baseline.training")), "the temporary directory is renamed");
        var log = new TrainLog(single).entries();
        assertEquals(6, log.size());
        assertTrue(log.get(2).has("val_loss") && log.get(5).has("val_loss") && !log.get(0).has("val_loss"), log.toString());
        assertEquals(6 * 16 * 2 * 2, log.get(5).get("tokens").asLong());
    }

    @Test
    void twoRanksGiveTheBytesOfOneProcess() throws Exception {
        Path two = dir.resolve("two").resolve("baseline");
        MpiJobs.Result r = MpiJobs.exec(MpiJobs.mpirun(2, job(two, 2, 5)), dir.resolve("two.txt"), TIMEOUT_S, Map.of());
        assertEquals(0, r.code(), r.output());
        assertTrue(r.output().contains("ok rank 1"), "not a 2-rank run:\n" + r.output());
        RunFiles.assertSameRun(single, two);
    }

    @Test
    void ranksWithDifferentSettingsStopWithAMessage() throws Exception {
        Path run = dir.resolve("disagree");
        List<String> cmd = new ArrayList<>(MpiJobs.mpirun(1, job(run, 2, 5)));   // MPMD: rank 1 has another seed
        cmd.add(":");
        cmd.addAll(List.of("-np", "1"));
        cmd.addAll(job(run, 2, 6));
        MpiJobs.Result r = MpiJobs.exec(cmd, dir.resolve("disagree.txt"), TIMEOUT_S, Map.of());
        assertNotEquals(0, r.code(), r.output());
        assertTrue(r.output().contains("the 2 ranks disagree on the Minitron run's settings"), r.output());
        assertFalse(Files.exists(run), "nothing trained, nothing written");
    }

    static List<String> job(Path out, int accumulation, long seed) {
        return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--add-modules",
                "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Dai.djl.offline=true", "-DOPT_OUT_TRACKING=true",
                "-XX:+UseSerialGC", "-Xmx256m", "-cp", System.getProperty("java.class.path"), MinitronJob.class.getName(),
                parent.toString(), out.toString(), Integer.toString(accumulation), Long.toString(seed));
    }
}
