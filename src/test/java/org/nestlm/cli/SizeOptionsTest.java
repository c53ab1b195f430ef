package org.nestlm.cli;

import static org.nestlm.cli.CliRun.run;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.sizes.Budget;
import org.nestlm.sizes.ElasticModel;
import org.nestlm.sizes.LatencyProfile;
import org.nestlm.sizes.MemoryModel;
import org.nestlm.sizes.TrainedBudget;
import org.nestlm.io.DType;
import org.nestlm.slice.ElasticFixtures;
import org.nestlm.util.DjlRuntime;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --budget (interpolated), --max-params, --max-memory, --max-latency-ms across the commands, end to end. */
class SizeOptionsTest {

    static {
        DjlRuntime.configure();
    }

    @TempDir
    static Path dir;
    static Path elastic;

    @BeforeAll
    static void build() throws Exception {
        elastic = ElasticFixtures.write(dir.resolve("el"), DType.BF16, 7);
    }


    @Test
    void interpolatedBudgetRunsInGenerateScoreAndSlice() {
        CliRun.Run g = run("generate", "--model", elastic.toString(), "--ids", "1,2,3", "--max-tokens", "3",
                "--ignore-eos", "--json", "--budget", "60%");
        assertEquals(0, g.code(), g.err());
        assertTrue(g.out().contains("\"model\":\"el@60%\""), g.out());
        CliRun.Run s = run("score", "--model", elastic.toString(), "--ids", "1,2,3,4", "--json", "--budget", "0.6");
        assertEquals(0, s.code(), s.err());
        CliRun.Run c = run("slice", "--model", elastic.toString(), "--budget", "60%", "--out", dir.resolve("s60").toString());
        assertEquals(0, c.code(), c.err());
        CliRun.Run p = run("elastic", "plan", "--model", elastic.toString(), "--budgets", "60%");
        assertEquals(0, p.code(), p.err());
        assertTrue(p.out().contains("trained") && p.out().contains("interpolated") && p.out().contains("60%"), p.out());
    }

    @Test
    void maxMemoryChoosesAndPrintsTheSize() throws Exception {
        MemoryModel mem = new MemoryModel(DType.BF16, 512, 2);
        long limit;
        try (ElasticModel em = ElasticModel.open(elastic)) {
            TrainedBudget t75 = em.resolve(Budget.parse("75%"));
            limit = mem.of(t75.subnet(), ElasticFixtures.config()).total();
        }
        CliRun.Run g = run("generate", "--model", elastic.toString(), "--ids", "1,2,3", "--max-tokens", "2",
                "--ignore-eos", "--json", "--max-memory", Long.toString(limit), "--context", "512", "--batch", "2", "--dtype", "bf16");
        assertEquals(0, g.code(), g.err());
        assertTrue(g.err().contains("size: ") && g.err().contains("context 512, batch 2"), g.err());
        // impossible: names the smallest size and its figure
        CliRun.Run bad = run("slice", "--model", elastic.toString(), "--max-memory", "1KiB", "--out", dir.resolve("x").toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("smallest, 50%") && bad.err().contains("max-memory 1.00 KiB"), bad.err());
        CliRun.Run both = run("score", "--model", elastic.toString(), "--ids", "1,2", "--budget", "50%", "--max-params", "3M");
        assertEquals(2, both.code());
        assertTrue(both.err().contains("either --budget or limits"), both.err());
    }

    @Test
    void maxLatencyReadsTheProfileThatBenchDecodeWrites() throws Exception {
        Path m = ElasticFixtures.write(dir.resolve("lat"), DType.BF16, 9);
        CliRun.Run missing = run("generate", "--model", m.toString(), "--ids", "1,2", "--max-tokens", "1", "--max-latency-ms", "5");
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains(LatencyProfile.FILE_NAME), missing.err());
        CliRun.Run b = run("bench", "decode", "--model", m.toString(), "--all-sizes", "--threads", "1",
                "--tokens", "8", "--prompt-tokens", "8", "--bandwidth-mib", "0");
        assertEquals(0, b.code(), b.err());
        LatencyProfile p = LatencyProfile.read(m);
        assertEquals(3, p.points().size(), "full, 75 %, 50 %");
        double slowest = p.points().stream().mapToDouble(LatencyProfile.Point::msPerToken).max().orElseThrow();
        CliRun.Run g = run("generate", "--model", m.toString(), "--ids", "1,2", "--max-tokens", "1", "--threads", "1",
                "--json", "--max-latency-ms", Double.toString(slowest * 2));
        assertEquals(0, g.code(), g.err());
        assertTrue(g.err().contains("ms/token"), g.err());
        CliRun.Run none = run("generate", "--model", m.toString(), "--ids", "1,2", "--max-tokens", "1", "--threads", "1",
                "--max-latency-ms", "0.0000001");
        assertEquals(2, none.code());
        assertTrue(none.err().contains("smallest, 50%"), none.err());
    }
}
