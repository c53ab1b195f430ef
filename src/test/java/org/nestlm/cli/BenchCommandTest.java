package org.nestlm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.dist.MpiJobs;
import org.nestlm.infer.InferTestModels;
import org.nestlm.io.DType;
import org.nestlm.util.DjlRuntime;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code nestlm bench decode}, {@code bench serve} and {@code bench train} run and report their numbers (no timing assertions: machines differ). */
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
    void trainBenchReportsEveryStepAgainstTheMeasuredMatmulPeak(@TempDir Path dir) throws Exception {
        CliRun.Run r = CliRun.run("bench", "train", "--preset", "tiny", "--batch", "2", "--seq", "16", "--steps", "1",
                "--warmup", "1", "--threads", "1", "--profile", dir.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertTrue(j.get("matmul_peak_gflops").asDouble() > 0);
        assertTrue(!j.get("processor").asText().isBlank());
        for (String step : new String[] {"pretrain", "kd", "elastic"}) {
            JsonNode s = j.get("results").get(step);
            assertTrue(s.get("gflops").asDouble() > 0, step);
            assertEquals(s.get("gflops").asDouble() / j.get("matmul_peak_gflops").asDouble(),
                    s.get("fraction_of_peak").asDouble(), 1e-9, step);
            assertTrue(s.get("cpu_s_per_step").asDouble() >= 0, step);
            assertTrue(Double.isFinite(s.get("loss_first_last").get(1).asDouble()), step);
            JsonNode p = s.get("profile_seconds_per_step");
            assertTrue(p.get("projections (mm, addmm)").asDouble() > 0, step);
            assertTrue(s.get("optimizer_median_s").asDouble() > 0 && s.get("optimizer_median_s").asDouble() < s.get("median_s").asDouble(), step);
            assertEquals(s.get("optimizer_median_s").asDouble(), p.get("optimizer (AdamW, timed steps)").asDouble(), 0, step);
        }
        try (var files = java.nio.file.Files.list(dir)) {                 // one trace per profiled step, no leftovers
            assertEquals(3 * 3, files.filter(f -> f.getFileName().toString().matches("(pretrain|kd|elastic)-trace-[0-2]\\.json")).count());
        }
        try (var files = java.nio.file.Files.list(dir)) {
            assertEquals(9, files.count());
        }
        // kd and elastic: teacher forward + student forward and backward = 4/3 of pretraining's matmuls
        double pre = j.get("results").get("pretrain").get("matmul_gflop_per_step").asDouble();
        assertEquals(4.0 / 3 * pre, j.get("results").get("kd").get("matmul_gflop_per_step").asDouble(), 1e-9 * pre);

        CliRun.Run bad = CliRun.run("bench", "train", "--preset", "tiny", "--only", "pretrain,serve");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--only") && bad.err().contains("elastic"), bad.err());
    }

    /** {@code mpirun -np 2}: one report, from rank 0, with the all-reduce timed for every step kind, elastic included. */
    @Test
    @Tag("slow")
    void trainBenchOnTwoRanksReportsTheAllReduceOnce(@TempDir Path dir) throws Exception {
        MpiJobs.requireMpirun();
        MpiJobs.Result r = MpiJobs.exec(MpiJobs.mpirun(2, CliRun.javaCommand(List.of("-Xmx512m"), "bench", "train",
                        "--preset", "tiny", "--batch", "4", "--seq", "16", "--steps", "1", "--warmup", "1", "--threads", "1",
                        "--only", "pretrain,elastic", "--json")), dir.resolve("out.txt"), 240, Map.of());
        assertEquals(0, r.code(), r.output());
        String out = r.output();
        assertEquals(out.indexOf("\"benchmark\""), out.lastIndexOf("\"benchmark\""), "one report, not one per rank:\n" + out);
        JsonNode j = new ObjectMapper().readTree(out.substring(out.indexOf("{\n"), out.lastIndexOf('}') + 1));
        assertEquals(2, j.get("ranks").asInt());
        assertEquals(4 * 16, j.get("tokens_per_step").asInt());
        for (String step : new String[] {"pretrain", "elastic"}) {
            JsonNode s = j.get("results").get(step);
            assertTrue(s.get("allreduce_median_s").asDouble() > 0, step);
            assertTrue(s.get("wait_median_s").asDouble() >= 0, step);
            assertTrue(s.get("gflops").asDouble() > 0 && Double.isFinite(s.get("loss_first_last").get(1).asDouble()), step);
        }
    }

    @Test
    void serveBenchLoadsALoopbackServerAndReportsEveryConcurrency(@TempDir Path dir) throws Exception {
        Path m = InferTestModels.write(dir.resolve("m"), InferTestModels.hybrid(), DType.BF16, 2);
        CliRun.Run r = CliRun.run("bench", "serve", "--model", m.toString(), "--threads", "1", "--concurrency", "1,3",
                "--requests", "2", "--prompt-tokens", "5", "--tokens", "6", "--warmup-seconds", "0", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode report = new ObjectMapper().readTree(r.out());
        assertEquals(32, report.get("prefill_chunk").asInt(), "the server's default, read from its /health");
        JsonNode results = report.get("results");
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
        CliRun.Run chunk = CliRun.run("bench", "serve", "--model", m.toString(), "--threads", "1", "--prefill-chunk", "0");
        assertEquals(2, chunk.code(), chunk.err());
        assertTrue(chunk.err().contains("--prefill-chunk must be at least 1"), chunk.err());
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
