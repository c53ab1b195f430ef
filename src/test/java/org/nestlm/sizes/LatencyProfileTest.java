package org.nestlm.sizes;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.util.DjlRuntime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** latency.json: atomic record/merge, estimates between measured sizes, errors that name file and field. */
class LatencyProfileTest {

    static {
        DjlRuntime.configure();
    }

    @TempDir
    Path dir;

    static LatencyProfile.Point point(String budget, long params, int threads, double ms) {
        return new LatencyProfile.Point(budget, params, threads, "BF16", ms, 64, "2025-01-01T00:00:00Z");
    }

    @Test
    void recordsMergesAndEstimates() throws IOException {
        LatencyProfile.record(dir, point("100%", 1000, 4, 2.0));
        LatencyProfile.record(dir, point("50%", 500, 4, 1.5));   // replaced below
        LatencyProfile.record(dir, point("50%", 500, 4, 1.0));
        LatencyProfile.record(dir, point("100%", 1000, 8, 1.2));
        LatencyProfile p = LatencyProfile.read(dir);
        assertEquals(3, p.points().size());
        assertEquals(2.0, p.estimateMs(1000, 4), 1e-12);
        assertEquals(1.0, p.estimateMs(500, 4), 1e-12);
        assertEquals(1.5, p.estimateMs(750, 4), 1e-12);     // linear in parameters between measurements
        assertEquals(0.9, p.estimateMs(450, 4), 1e-12);     // extrapolated from the nearest segment
        assertEquals(0.6, p.estimateMs(500, 8), 1e-12);     // one measurement: proportional
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.estimateMs(500, 2));
        assertTrue(e.getMessage().contains("2 threads") && e.getMessage().contains("[4, 8]"), e.getMessage());
        assertTrue(Files.list(dir).allMatch(f -> f.getFileName().toString().equals(LatencyProfile.FILE_NAME)),
                "no temporary files left behind");
    }

    @Test
    void errorsNameTheFileAndField() throws IOException {
        NoSuchFileException missing = assertThrows(NoSuchFileException.class, () -> LatencyProfile.read(dir));
        assertTrue(missing.getMessage().contains("bench decode"), missing.getMessage());
        Files.writeString(dir.resolve(LatencyProfile.FILE_NAME),
                "{\"format\": \"nestlm-latency\", \"version\": 1, \"points\": [{\"budget\": \"50%\", \"parameters\": 10, \"threads\": 1, \"dtype\": \"BF16\", \"decode_tokens\": 4}]}");
        IOException e = assertThrows(IOException.class, () -> LatencyProfile.read(dir));
        assertTrue(e.getMessage().contains(LatencyProfile.FILE_NAME) && e.getMessage().contains("points[0]")
                && e.getMessage().contains("ms_per_token"), e.getMessage());
    }
}
