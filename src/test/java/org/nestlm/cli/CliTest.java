package org.nestlm.cli;

import org.nestlm.cli.CliRun.Run;
import static org.nestlm.cli.CliRun.run;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.model.ConfigJson;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** init → info → score, as a user runs them, and the errors a user meets. */
class CliTest {

    @TempDir
    static Path dir;
    static Path tiny;



    @BeforeAll
    static void init() {
        tiny = dir.resolve("tiny");
        Run r = run("init", "--preset", "tiny", "--out", tiny.toString(), "--seed", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("204.8 K parameters"), r.out());
    }

    @Test
    void scoreJsonWithLogits() throws Exception {
        Run r = run("score", "--model", tiny.toString(), "--ids", "1,2,3", "--json", "--logits");
        assertEquals(0, r.code(), r.err());
        JsonNode o = ConfigJson.MAPPER.readTree(r.out());
        assertEquals(3, o.get("ids").size());
        assertEquals(2, o.get("logprobs").size());
        assertEquals(3, o.get("logits").size());
        assertEquals(512, o.get("logits").get(0).size());
        double nll = -(o.get("logprobs").get(0).asDouble() + o.get("logprobs").get(1).asDouble());
        assertEquals(nll, o.get("nll").asDouble(), 1e-6);
        assertEquals(Math.exp(nll / 2), o.get("perplexity").asDouble(), 1e-6);
        // log p(token 2 | 1) is the log-softmax of the first row of logits at id 2
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        JsonNode row = o.get("logits").get(0);
        for (JsonNode v : row) {
            max = Math.max(max, v.asDouble());
        }
        for (JsonNode v : row) {
            sum += Math.exp(v.asDouble() - max);
        }
        assertEquals(row.get(2).asDouble() - max - Math.log(sum), o.get("logprobs").get(0).asDouble(), 1e-5);
    }

    @Test
    void scoreTableAndInfo() {
        Run s = run("score", "--model", tiny.toString(), "--ids", "5, 6, 7, 8");
        assertEquals(0, s.code(), s.err());
        assertTrue(s.out().contains("perplexity"), s.out());
        Run i = run("info", tiny.toString());
        assertEquals(0, i.code(), i.err());
        assertTrue(i.out().contains("2 Mamba-2 (M), 1 attention (*), 3 MLP (-)"), i.out());
        assertTrue(i.out().contains("204,824"), i.out());
        assertTrue(i.out().contains("400.0 KiB at BF16"), i.out());
    }

    @Test
    void initFromConfigFileInBf16() throws Exception {
        Path cfg = dir.resolve("cfg.json");
        Files.writeString(cfg, Files.readString(tiny.resolve("config.json")));
        Path out = dir.resolve("from-config");
        Run r = run("init", "--config", cfg.toString(), "--out", out.toString(), "--dtype", "bf16");
        assertEquals(0, r.code(), r.err());
        assertEquals(409_648 + 8, Files.size(out.resolve("model.safetensors")) - headerBytes(out.resolve("model.safetensors")));
    }

    private static long headerBytes(Path file) throws Exception {
        byte[] head = Files.readAllBytes(file);
        long n = 0;
        for (int i = 7; i >= 0; i--) {
            n = (n << 8) | (head[i] & 0xff);
        }
        return n;
    }

    @Test
    void errorsNameTheProblem() {
        Run missing = run("score", "--model", dir.resolve("nowhere").toString(), "--ids", "1");
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("nowhere"), missing.err());

        Run outside = run("score", "--model", tiny.toString(), "--ids", "1,512");
        assertEquals(2, outside.code());
        assertTrue(outside.err().contains("512 is outside the vocabulary of 512"), outside.err());

        Run notIds = run("score", "--model", tiny.toString(), "--ids", "1,x");
        assertEquals(2, notIds.code());
        assertTrue(notIds.err().contains("'x' is not a token id"), notIds.err());

        Run noTokenizer = run("score", "--model", tiny.toString(), "--text", "hello");
        assertEquals(2, noTokenizer.code());
        assertTrue(noTokenizer.err().contains("no tokenizer.json"), noTokenizer.err());

        Run overwrite = run("init", "--preset", "tiny", "--out", tiny.toString());
        assertEquals(2, overwrite.code());
        assertTrue(overwrite.err().contains("already holds a checkpoint"), overwrite.err());

        Run preset = run("init", "--preset", "huge", "--out", dir.resolve("huge").toString());
        assertEquals(2, preset.code());
        assertTrue(preset.err().contains("known presets: tiny"), preset.err());

        Run plan = run("demo", "--plan", "huge", "--out", dir.resolve("huge-demo").toString());
        assertEquals(2, plan.code());
        assertTrue(plan.err().contains("--plan: unknown plan 'huge'; plans: default, quick, reference"), plan.err());

        Run routing = run("elastify", "--teacher", tiny.toString(), "--budgets", "1.0,0.5", "--corpus", "default", "--tokens", "100",
                "--out", dir.resolve("routing").toString(), "--routing", "random");
        assertEquals(2, routing.code());
        assertTrue(routing.err().contains("--routing must be 'searched' or 'learned', got 'random'"), routing.err());
    }

    @Test
    void corruptWeightsAreRejectedNamingTheFile() throws Exception {
        Path broken = dir.resolve("broken");
        assertEquals(0, run("init", "--preset", "tiny", "--out", broken.toString()).code());
        Path weights = broken.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(weights);
        Files.write(weights, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        Run r = run("info", broken.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("model.safetensors"), r.err());
    }
}
