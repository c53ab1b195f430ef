package org.nestlm.cli;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.util.DjlRuntime;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The quick demo end to end (CI): built-in corpus, no network; a second run resumes and skips every stage; a third
 * adds a second seed, reusing the first seed's runs, and reports means and intervals.
 */
@Tag("slow")
class DemoCommandTest {

    static {
        DjlRuntime.configure();
    }

    @TempDir
    Path dir;

    @Test
    void quickDemoEndToEndAndResume() throws Exception {
        Path out = dir.resolve("demo");
        String[] args = {"demo", "--quick", "--out", out.toString(), "--dir", dir.resolve("cache").toString()};
        assertEquals(0, Main.run(args));
        String report = Files.readString(out.resolve("report.md"));
        assertTrue(report.contains("## Acceptance") && report.contains("Table 2") && report.contains("Table 3"), report);
        assertTrue(Files.size(out.resolve("loss_vs_params.png")) > 1000);
        for (String d : new String[] {"parent", "permuted", "elastic", "sliced/elastic-0.5", "baselines/cut-0.5",
                "baselines/minitron-0.5", "baselines/scratch-0.5"}) {
            assertTrue(Files.isRegularFile(out.resolve(d).resolve("config.json")), d);
        }
        long before = Files.getLastModifiedTime(out.resolve("elastic/model.safetensors")).toMillis();
        assertEquals(0, Main.run(args));                      // everything done: only the report is rewritten
        assertEquals(before, Files.getLastModifiedTime(out.resolve("elastic/model.safetensors")).toMillis());

        String[] twoSeeds = java.util.stream.Stream.concat(java.util.Arrays.stream(args), java.util.stream.Stream.of("--seeds", "2"))
                .toArray(String[]::new);
        assertEquals(0, Main.run(twoSeeds));
        assertEquals(before, Files.getLastModifiedTime(out.resolve("elastic/model.safetensors")).toMillis());
        for (String d : new String[] {"seed-1/elastic", "seed-1/baselines/minitron-0.5", "seed-1/baselines/scratch-0.5"}) {
            assertTrue(Files.isRegularFile(out.resolve(d).resolve("config.json")), d);
        }
        String seeded = Files.readString(out.resolve("report.md"));
        assertTrue(seeded.contains("mean ± sd over 2 seeds") && seeded.contains("95 % interval")
                && seeded.contains("(on the means over 2 seeds)"), seeded);
        assertTrue(!Files.readString(out.resolve("seed-1/elastic/log.jsonl")).equals(Files.readString(out.resolve("elastic/log.jsonl"))),
                "the second seed trains differently");
    }
}
