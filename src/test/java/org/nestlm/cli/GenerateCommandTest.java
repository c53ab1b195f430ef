package org.nestlm.cli;

import org.nestlm.cli.CliRun.Run;
import static org.nestlm.cli.CliRun.runWithInput;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.infer.CharTokenizer;
import org.nestlm.infer.Engine;
import org.nestlm.infer.Generator;
import org.nestlm.infer.InferTestModels;
import org.nestlm.infer.SamplingParams;
import org.nestlm.io.DType;
import org.nestlm.util.DjlRuntime;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code nestlm generate} and {@code nestlm chat} end to end on a small random BF16 model with a character tokenizer. */
class GenerateCommandTest {

    static {
        DjlRuntime.configure();
    }

    @TempDir
    static Path dir;
    static Path model;      // with tokenizer.json
    static Path idsOnly;    // without



    @BeforeAll
    static void models() throws Exception {
        model = InferTestModels.write(dir.resolve("m"), InferTestModels.hybrid(), DType.BF16, 5);
        CharTokenizer.write(model);
        idsOnly = InferTestModels.write(dir.resolve("ids"), InferTestModels.hybrid(), DType.F32, 6);
    }

    @Test
    void idsJsonIsTheGreedyContinuation() throws Exception {
        Run r = runWithInput("", "generate", "--model", idsOnly.toString(), "--ids", "1,2,3", "--max-tokens", "7", "--json",
                "--ignore-eos", "--threads", "2");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        int[] expected;
        try (Engine e = Engine.open(idsOnly, 1)) {
            expected = new Generator(e, null).generate(new int[] {1, 2, 3}, SamplingParams.greedy(7), null).tokens();
        }
        assertEquals(7, j.get("ids").size());
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], j.get("ids").get(i).asInt());
        }
        assertEquals("length", j.get("finish_reason").asText());
        assertEquals(3, j.get("prompt_tokens").asInt());
        assertTrue(j.get("text") == null);
    }

    @Test
    void idsWithoutTokenizerStreamIds() {
        Run r = runWithInput("", "generate", "--model", idsOnly.toString(), "--ids", "4 5", "--max-tokens", "3", "--ignore-eos");
        assertEquals(0, r.code(), r.err());
        assertEquals(3, r.out().trim().split("\\s+").length, r.out());
        assertTrue(r.err().contains("decode"), r.err());
    }

    @Test
    void promptStreamsTextAndHonoursStopAndSeed() {
        Run a = runWithInput("", "generate", "--model", model.toString(), "--prompt", "hello", "--max-tokens", "12",
                "--temperature", "0.8", "--top-k", "20", "--top-p", "0.9", "--seed", "3", "--ignore-eos");
        Run b = runWithInput("", "generate", "--model", model.toString(), "--prompt", "hello", "--max-tokens", "12",
                "--temperature", "0.8", "--top-k", "20", "--top-p", "0.9", "--seed", "3", "--ignore-eos");
        assertEquals(0, a.code(), a.err());
        String text = a.out().stripTrailing().replace("\n", "");
        assertEquals(a.out(), b.out());
        assertTrue(a.out().length() >= 12, a.out());
        // a stop string taken from the free text cuts it there
        String free = runWithInput("", "generate", "--model", model.toString(), "--prompt", "hello", "--max-tokens", "12",
                "--ignore-eos").out();
        String stop = free.substring(4, 6);
        Run s = runWithInput("", "generate", "--model", model.toString(), "--prompt", "hello", "--max-tokens", "12",
                "--ignore-eos", "--stop", stop);
        assertEquals(0, s.code(), s.err());
        assertEquals(free.substring(0, free.indexOf(stop)), s.out().substring(0, s.out().length() - 1));
        assertTrue(!text.isEmpty());
    }

    @Test
    void chatReadsLinesFromAPipe() {
        Run r = runWithInput("hi\n/reset\nhow are you\n", "chat", "--model", model.toString(), "--max-tokens", "5", "--ignore-eos");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("(conversation cleared)"), r.out());
        Run none = runWithInput("hi\n", "chat", "--model", idsOnly.toString());
        assertEquals(2, none.code());
        assertTrue(none.err().contains("no tokenizer.json"), none.err());
    }

    @Test
    void badInputIsNamed() {
        Run r = runWithInput("", "generate", "--model", model.toString(), "--ids", "1,99999");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("outside the vocabulary"), r.err());
        r = runWithInput("", "generate", "--model", idsOnly.toString(), "--prompt", "hi");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("no tokenizer.json"), r.err());
        r = runWithInput("", "generate", "--model", model.toString(), "--ids", "1", "--top-p", "0");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--top-p"), r.err());
        r = runWithInput("", "generate", "--model", dir.resolve("missing").toString(), "--ids", "1");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("missing"), r.err());
    }
}
