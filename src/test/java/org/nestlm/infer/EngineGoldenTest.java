package org.nestlm.infer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine against the golden fixtures (src/test/resources/golden/README.md): fp64 logits of an
 * independent NumPy implementation on BF16 weights, within 1e-4, by batched prefill, by token-by-token
 * decode and by prefill-then-decode; argmax at every position and the greedy continuation identical.
 * {@code hybrid-b-hetero} is a heterogeneous (sliced) checkpoint.
 */
class EngineGoldenTest {

    static final Path GOLDEN = Path.of("src/test/resources/golden");
    static final double TOL = 1e-4;
    static final ObjectMapper JSON = new ObjectMapper();
    static Parallel parallel;

    @BeforeAll
    static void pool() {
        parallel = new Parallel(2);
    }

    @AfterAll
    static void close() {
        parallel.close();
    }

    private static int[] ints(JsonNode n) {
        int[] a = new int[n.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = n.get(i).asInt();
        }
        return a;
    }

    private static float[] logits(JsonNode rows) {
        int v = rows.get(0).size();
        float[] a = new float[rows.size() * v];
        for (int t = 0; t < rows.size(); t++) {
            for (int j = 0; j < v; j++) {
                a[t * v + j] = (float) rows.get(t).get(j).asDouble();
            }
        }
        return a;
    }

    @ParameterizedTest
    @CsvSource({"hybrid-a,expected.json", "hybrid-a,expected-short.json", "hybrid-b-hetero,expected.json"})
    void prefillDecodeAndSplitMatchTheReference(String fixture, String file) throws Exception {
        Path dir = GOLDEN.resolve(fixture);
        JsonNode exp = JSON.readTree(dir.resolve(file).toFile());
        int[] ids = ints(exp.get("ids"));
        float[] expected = logits(exp.get("logits"));
        try (Engine engine = Engine.open(dir, 2)) {
            int v = engine.vocabSize();
            float[] prefill = engine.forward(engine.newState(), ids, true);
            assertTrue(InferTestModels.maxAbsDiff(expected, prefill) <= TOL,
                    fixture + " prefill: " + InferTestModels.maxAbsDiff(expected, prefill));

            InferenceState s = engine.newState();
            float[] decode = new float[ids.length * v];
            for (int t = 0; t < ids.length; t++) {
                System.arraycopy(engine.step(s, ids[t]), 0, decode, t * v, v);
            }
            assertTrue(InferTestModels.maxAbsDiff(expected, decode) <= TOL,
                    fixture + " decode: " + InferTestModels.maxAbsDiff(expected, decode));

            int split = (2 * ids.length) / 3;
            InferenceState p = engine.newState();
            float[] mixed = new float[ids.length * v];
            System.arraycopy(engine.forward(p, java.util.Arrays.copyOf(ids, split), true), 0, mixed, 0, split * v);
            for (int t = split; t < ids.length; t++) {
                System.arraycopy(engine.step(p, ids[t]), 0, mixed, t * v, v);
            }
            assertTrue(InferTestModels.maxAbsDiff(expected, mixed) <= TOL,
                    fixture + " prefill+decode: " + InferTestModels.maxAbsDiff(expected, mixed));

            for (int t = 0; t < ids.length; t++) {
                assertEquals(InferTestModels.argmax(expected, t * v, v), InferTestModels.argmax(prefill, t * v, v),
                        fixture + " argmax at " + t);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"hybrid-a", "hybrid-b-hetero"})
    void greedyContinuationMatchesTheReference(String fixture) throws Exception {
        Path dir = GOLDEN.resolve(fixture);
        JsonNode debug = JSON.readTree(dir.resolve("debug.json").toFile());
        int[] ids = ints(debug.get("ids"));
        int[] expected = ints(debug.get("greedy_continuation"));
        try (Engine engine = Engine.open(dir, 1)) {
            SamplingParams greedy = SamplingParams.greedy(expected.length);
            Generation g = new Generator(engine, null).generate(ids, greedy, null);
            assertArrayEquals(expected, g.tokens(), fixture);
        }
    }
}
