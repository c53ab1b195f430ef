package org.nestlm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.infer.InferTestModels;
import org.nestlm.io.DType;
import org.nestlm.util.DjlRuntime;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code nestlm bench decode} runs and reports its numbers (no timing assertions: machines differ). */
class BenchCommandTest {

    static {
        DjlRuntime.configure();
    }

    @Test
    void decodeBenchReportsSpeedAndBandwidth(@TempDir Path dir) throws Exception {
        Path m = InferTestModels.write(dir.resolve("m"), InferTestModels.hybrid(), DType.BF16, 1);
        CliRun.Run r = CliRun.run("bench", "decode", "--model", m.toString(), "--tokens", "8",
                "--prompt-tokens", "5", "--threads", "1", "--bandwidth-mib", "8", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertTrue(j.get("decode_tokens_per_s").asDouble() > 0);
        assertTrue(j.get("prefill_tokens_per_s").asDouble() > 0);
        assertTrue(j.get("memory_read_bandwidth_gb_s").asDouble() > 0);
        assertEquals("BF16", j.get("weights_dtype").asText());
        // BF16 layer matrices + lm_head + one embedding row
        assertTrue(j.get("weight_bytes_per_token").asLong() > 0);

        CliRun.Run text = CliRun.run("bench", "decode", "--model", m.toString(), "--tokens", "4",
                "--prompt-tokens", "3", "--threads", "2", "--bandwidth-mib", "8");
        assertEquals(0, text.code(), text.err());
        assertTrue(text.out().contains("decode") && text.out().contains("ratio"), text.out());
    }

    @Test
    void serveBenchLoadsALoopbackServerAndReportsEveryConcurrency(@TempDir Path dir) throws Exception {
        Path m = InferTestModels.write(dir.resolve("m"), InferTestModels.hybrid(), DType.BF16, 2);
        CliRun.Run r = CliRun.run("bench", "serve", "--model", m.toString(), "--threads", "1", "--concurrency", "1,3",
                "--requests", "2", "--prompt-tokens", "5", "--tokens", "6", "--warmup-seconds", "0", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode results = new ObjectMapper().readTree(r.out()).get("results");
        assertEquals(2, results.size());
        for (int i = 0; i < 2; i++) {
            JsonNode row = results.get(i);
            int c = i == 0 ? 1 : 3;
            assertEquals(c, row.get("concurrency").asInt());
            assertEquals(2 * c, row.get("requests").asInt());
            assertEquals(0, row.get("errors").asInt(), row.toString());
            assertEquals(2L * c * 6, row.get("output_tokens").asLong(), row.toString());
            assertTrue(row.get("output_tokens_per_s").asDouble() > 0 && row.get("ttft_ms_p99").asDouble() >= row.get("ttft_ms_p50").asDouble());
        }
        CliRun.Run bad = CliRun.run("bench", "serve", "--threads", "1");
        assertEquals(2, bad.code(), bad.err());
    }

    @Test
    void decodeBenchOverBatchesReportsEveryBatchSize(@TempDir Path dir) throws Exception {
        Path m = InferTestModels.write(dir.resolve("m"), InferTestModels.hybrid(), DType.BF16, 3);
        CliRun.Run r = CliRun.run("bench", "decode", "--model", m.toString(), "--tokens", "4", "--prompt-tokens", "3",
                "--threads", "1", "--batch-sizes", "1,3", "--repeats", "1", "--warmup-seconds", "0", "--bandwidth-mib", "0", "--no-record");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.trim().startsWith("3 ")), r.out());
    }
}
