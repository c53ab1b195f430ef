package org.nestlm.infer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.io.DType;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The generation loop: max tokens, streaming, stop strings (cut and held back while streaming), seeds,
 * the end-of-sequence token and the context limit. Text comes from a toy tokenizer: id i is the letter
 * {@code 'a' + i % 26}.
 */
class GeneratorTest {

    @TempDir
    static Path tmp;
    static Engine engine;

    static final TokenText LETTERS = new LetterTokens();

    @BeforeAll
    static void open() throws Exception {
        engine = Engine.open(InferTestModels.write(tmp.resolve("m"), InferTestModels.hybrid(), DType.F32, 3), 2);
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @Test
    void streamsEveryTokenAndTheWholeText() {
        List<Integer> tokens = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        Generation g = new Generator(engine, LETTERS).generate(new int[] {1, 2, 3}, SamplingParams.greedy(12), (t, d) -> {
            tokens.add(t);
            text.append(d);
        });
        assertEquals(12, g.tokens().length);
        assertEquals(FinishReason.LENGTH, g.finish());
        assertArrayEquals(g.tokens(), tokens.stream().mapToInt(Integer::intValue).toArray());
        assertEquals(LETTERS.decode(g.tokens()), g.text());
        assertEquals(g.text(), text.toString());
    }

    @Test
    void stopStringCutsTheTextAndIsNotStreamed() {
        Generator gen = new Generator(engine, LETTERS);
        String free = gen.generate(new int[] {5, 6}, SamplingParams.greedy(16), null).text();
        String stop = free.substring(5, 7);            // a two-letter stop string that occurs in the greedy text
        int at = free.indexOf(stop);
        StringBuilder streamed = new StringBuilder();
        SamplingParams p = new SamplingParams(16, 0, 0, 1, null, List.of(stop, "zzzzzzzz"), true);
        Generation g = gen.generate(new int[] {5, 6}, p, (t, d) -> streamed.append(d));
        assertEquals(FinishReason.STOP, g.finish());
        assertEquals(free.substring(0, at), g.text());
        assertEquals(g.text(), streamed.toString());
    }

    @Test
    void seededSamplingRepeatsAndGreedyMatchesTheEngine() {
        Generator gen = new Generator(engine, null);
        SamplingParams p = new SamplingParams(10, 0.9, 20, 0.95, 123L, List.of(), true);
        assertArrayEquals(gen.generate(new int[] {4}, p, null).tokens(), gen.generate(new int[] {4}, p, null).tokens());

        int[] prompt = {7, 8, 9};
        InferenceState s = engine.newState();
        float[] l = engine.forward(s, prompt, false);
        int[] expected = new int[6];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = Sampler.argmax(l, 0, engine.vocabSize());
            l = engine.step(s, expected[i]);
        }
        assertArrayEquals(expected, gen.generate(prompt, SamplingParams.greedy(6), null).tokens());
    }

    @Test
    void endOfSequenceStopsUnlessIgnored() {
        Generator gen = new Generator(engine, null);
        int[] free = gen.generate(new int[] {1}, SamplingParams.greedy(8), null).tokens();
        int eos = engine.config().eosTokenId();
        int at = -1;
        for (int i = 0; i < free.length; i++) {
            if (free[i] == eos) {
                at = i;
                break;
            }
        }
        Generation g = gen.generate(new int[] {1}, new SamplingParams(8, 0, 0, 1, null, List.of(), false), null);
        if (at < 0) {
            assertArrayEquals(free, g.tokens());
        } else {
            assertEquals(FinishReason.EOS, g.finish());
            assertArrayEquals(Arrays.copyOf(free, at), g.tokens());
        }
    }

    @Test
    void badPromptsAreRejected() {
        Generator gen = new Generator(engine, null);
        assertThrows(IllegalArgumentException.class, () -> gen.generate(new int[0], SamplingParams.greedy(1), null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> gen.generate(new int[engine.contextLimit() + 1], SamplingParams.greedy(1), null));
        assertTrue(e.getMessage().contains("context limit"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> gen.generate(new int[] {engine.vocabSize()}, SamplingParams.greedy(1), null));
        assertTrue(e.getMessage().contains("vocabulary"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> gen.generate(new int[] {1}, new SamplingParams(2, 0, 0, 1, null, List.of("x"), false), null));
    }
}
