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
}
