package org.nestlm.demo;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.cli.CliRun;
import org.nestlm.dist.MpiJobs;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code mpirun -np 2 nestlm demo --quick}: every training stage (parent, importance, elastify, the Minitron-style and
 * from-scratch baselines) on both ranks, the others on rank 0, and the report; run again, every stage is skipped by
 * both ranks alike. The ranks decide from rank 0's record of the stages, never each from the file (rank 0 may have
 * finished the next stage by the time another rank reads it); a rank that skipped a stage rank 0 ran would be one
 * barrier behind, which the communicator's signed collectives turn into an error rather than a hang.
 */
@Tag("slow")
class DemoOnTwoRanksTest {

    static final long TIMEOUT_S = 600;

    @TempDir
    Path dir;

    @Test
    void quickDemoOnTwoRanksAndItsResume() throws Exception {
        MpiJobs.requireMpirun();
        Path out = dir.resolve("demo");
        List<String> cmd = MpiJobs.mpirun(2, CliRun.javaCommand(List.of("-XX:+UseSerialGC"), "demo", "--quick", "--out",
                out.toString(), "--dir", dir.resolve("cache").toString()));
        MpiJobs.Result r = MpiJobs.exec(cmd, dir.resolve("first.txt"), TIMEOUT_S, Map.of("NESTLM_MPI_TIMEOUT_S", "300"));
        assertEquals(0, r.code(), r.output());
        assertTrue(r.output().contains("ranks     2 (MPI)"), "pretraining on 2 ranks:\n" + r.output());
        assertTrue(r.output().contains("minitron minitron-0.5: 2 ranks (MPI), each computes 1 of the 2 micro-batches"),
                "the Minitron-style baseline on 2 ranks:\n" + r.output());
        assertTrue(Files.readString(out.resolve(Report.FILE)).contains("## Acceptance"));
        for (String d : new String[] {"parent", "permuted", "elastic", "baselines/minitron-0.5", "baselines/scratch-0.5"}) {
            assertTrue(Files.isRegularFile(out.resolve(d).resolve("config.json")), d);
        }
        long before = Files.getLastModifiedTime(out.resolve("baselines/minitron-0.5/model.safetensors")).toMillis();

        MpiJobs.Result again = MpiJobs.exec(cmd, dir.resolve("again.txt"), TIMEOUT_S, Map.of("NESTLM_MPI_TIMEOUT_S", "300"));
        assertEquals(0, again.code(), again.output());
        for (String stage : new String[] {"parent", "elastify", "minitron-0.5", "scratch-0.5", "eval"}) {
            assertTrue(again.output().contains(String.format("%-15s done", stage)), stage + " skipped:\n" + again.output());
        }
        assertEquals(before, Files.getLastModifiedTime(out.resolve("baselines/minitron-0.5/model.safetensors")).toMillis());
    }
}
