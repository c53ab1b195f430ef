package org.nestlm.cli;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.util.DjlRuntime;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The quick demo end to end (CI): built-in corpus, no network; a second run resumes and skips every stage. */
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
    }
}
