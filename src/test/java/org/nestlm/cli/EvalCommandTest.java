package org.nestlm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.demo.BuiltinCorpus;
import org.nestlm.model.ConfigJson;
import org.nestlm.util.DjlRuntime;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code nestlm eval}: table and JSON on a text file and minimal pairs; errors name the file. */
class EvalCommandTest {

    static {
        DjlRuntime.configure();
    }

    @TempDir
    static Path dir;
    static Path model, text, pairs;

    @BeforeAll
    static void build() throws Exception {
        Path corpus = BuiltinCorpus.extract(dir.resolve("corpus"));
        text = corpus.resolve("carroll-alice.txt");
        model = dir.resolve("m");
        assertEquals(0, Main.run("init", "--preset", "tiny", "--out", model.toString()));
        assertEquals(0, Main.run("tokenizer", "train", "--vocab", "300", "--corpus", text.toString(), "--out",
                model.resolve("tokenizer.json").toString(), "--dir", dir.resolve("cache").toString(), "--quiet"));
        pairs = Files.writeString(dir.resolve("p.jsonl"),
                "{\"sentence_good\":\"Alice was here.\",\"sentence_bad\":\"Alice were here.\",\"UID\":\"agr\"}\n"
                        + "{\"sentence_good\":\"The cats run.\",\"sentence_bad\":\"The cats runs.\",\"UID\":\"agr\"}\n");
    }

    @Test
    void jsonOnTextAndPairs() throws Exception {
        CliRun.Run r = CliRun.run("eval", "--model", model.toString(), "--data", text.toString(),
                "--data", pairs.toString(), "--max-tokens", "600", "--context", "64", "--stride", "32", "--json",
                "--cache-dir", dir.resolve("cache").toString());
        assertEquals(0, r.code(), r.err());
        JsonNode m = ConfigJson.MAPPER.readTree(r.out()).get("models").get(0);
        assertEquals(204_824, m.get("parameters").asLong());
        JsonNode t = m.get("text").get(0);
        assertEquals(600, t.get("tokens").asLong());
        assertTrue(t.get("capped").asBoolean());
        // a random model over a 300-token vocabulary inside 512 logits: loss near ln 512
        assertTrue(Math.abs(t.get("loss").asDouble() - Math.log(512)) < 1.0, t.toString());
        JsonNode b = m.get("blimp").get(0);
        assertEquals(2, b.get("pairs").asLong());
        assertTrue(b.get("paradigms").has("agr"));
    }

    @Test
    void tableAndErrors() {
        CliRun.Run r = CliRun.run("eval", "--model", model.toString(), "--data", text.toString(),
                "--max-tokens", "200", "--quiet", "--cache-dir", dir.resolve("cache").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("bits/byte") && r.out().contains("carroll-alice.txt"), r.out());
        Path missing = dir.resolve("missing.txt");
        CliRun.Run bad = CliRun.run("eval", "--model", model.toString(), "--data", missing.toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains(missing.toString()), bad.err());
        CliRun.Run notElastic = CliRun.run("eval", "--model", model.toString(), "--all-budgets",
                "--data", text.toString());
        assertEquals(2, notElastic.code());
        assertTrue(notElastic.err().contains("elastic.json"), notElastic.err());
    }
}
