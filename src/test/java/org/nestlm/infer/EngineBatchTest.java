package org.nestlm.infer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nestlm.model.Checkpoint;
import org.nestlm.io.DType;
import org.nestlm.slice.ElasticFixtures;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Continuous batching in the engine: one pass over several sequences gives every sequence the logits it gets
 * decoding alone (within 1e-5), for any batch size, at ragged positions, for every mixer type (the hybrid
 * model has Mamba, attention and MLP layers), for BF16, F32 and int8 weights and for nested sizes read as
 * views; also when sequences join, leave, or feed a prompt piece in the same pass as others decode.
 */
class EngineBatchTest {

    static final double TOL = 1e-5;

    @TempDir
    static Path tmp;
    static Checkpoint bf16, f32, elastic;
    static Parallel parallel;

    @BeforeAll
    static void open() throws Exception {
        bf16 = Checkpoint.open(InferTestModels.write(tmp.resolve("bf16"), InferTestModels.hybrid(), DType.BF16, 21));
        f32 = Checkpoint.open(InferTestModels.write(tmp.resolve("f32"), InferTestModels.hybrid(), DType.F32, 22));
        elastic = Checkpoint.open(ElasticFixtures.write(tmp.resolve("elastic"), DType.BF16, 23));
        parallel = new Parallel(2);
    }

    @AfterAll
    static void close() {
        parallel.close();
        bf16.close();
        f32.close();
        elastic.close();
    }

    static Engine engine(String kind) throws Exception {
        return switch (kind) {
            case "bf16" -> Engine.of(bf16, parallel);
            case "f32" -> Engine.of(f32, parallel);
            case "q8" -> Engine.of(f32, parallel, null, true);
            case "view0" -> Engine.of(elastic, parallel, ElasticFixtures.subnet(0));
            case "view1" -> Engine.of(elastic, parallel, ElasticFixtures.subnet(1));
            default -> throw new IllegalArgumentException(kind);
        };
    }

    static void assertClose(float[] expected, int eOff, float[] actual, int aOff, int n, String what) {
        double m = 0;
        for (int i = 0; i < n; i++) {
            m = Math.max(m, Math.abs((double) expected[eOff + i] - actual[aOff + i]));
        }
        assertTrue(m <= TOL, what + ": max |Δ| = " + m);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"bf16", "f32", "q8", "view0", "view1"})
    void batchedDecodeEqualsDecodingAloneForAnyBatchSizeAtRaggedPositions(String kind) throws Exception {
        Engine e = engine(kind);
        int v = e.vocabSize();
        for (int b : new int[] {1, 2, 3, 5, 8}) {
            InferenceState[] alone = new InferenceState[b], batched = new InferenceState[b];
            for (int i = 0; i < b; i++) {
                alone[i] = e.newState();
                e.forward(alone[i], InferTestModels.ids(1 + 3 * i, v, 100 + i), false);   // prompts of 1, 4, 7, … tokens
                batched[i] = alone[i].copy();
            }
            for (int step = 0; step < 5; step++) {
                int[][] in = new int[b][];
                for (int i = 0; i < b; i++) {
                    in[i] = new int[] {(7 * i + 11 * step) % v};
                }
                float[] got = e.forward(batched, in);
                assertEquals(b * v, got.length);
                for (int i = 0; i < b; i++) {
                    float[] want = e.step(alone[i], in[i][0]);
                    assertClose(want, 0, got, i * v, v, kind + " B=" + b + " sequence " + i + " step " + step);
                    assertEquals(alone[i].position(), batched[i].position());
                }
            }
        }
    }

    /**
     * A schedule as the server runs it: sequences join with their prompt in pieces while others decode, and
     * leave; every logit any sequence sees equals the one it sees when its tokens are fed alone.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"bf16", "q8", "view1"})
    void joinLeaveAndChunkedPrefillInTheSamePassChangeNothing(String kind) throws Exception {
        Engine e = engine(kind);
        int v = e.vocabSize();
        int seqs = 5, piece = 3;
        int[][] prompts = new int[seqs][];
        int[] joinAt = {0, 0, 2, 3, 6}, decodeSteps = {6, 2, 5, 4, 3};
        for (int i = 0; i < seqs; i++) {
            prompts[i] = InferTestModels.ids(2 + 4 * i, v, 300 + i);
        }
        // the reference: each sequence alone, prompt at once, then its decode tokens one by one
        List<List<float[]>> want = new ArrayList<>();
        List<int[]> decodeTokens = new ArrayList<>();
        for (int i = 0; i < seqs; i++) {
            InferenceState s = e.newState();
            List<float[]> logits = new ArrayList<>();
            logits.add(e.forward(s, prompts[i], false));
            int[] toks = InferTestModels.ids(decodeSteps[i], v, 400 + i);
            for (int t : toks) {
                logits.add(e.step(s, t));
            }
            want.add(logits);
            decodeTokens.add(toks);
        }
        InferenceState[] st = new InferenceState[seqs];
        int[] fed = new int[seqs], seen = new int[seqs];   // prompt tokens fed; logits compared
        boolean anyLeft = true;
        int mixedPasses = 0;
        for (int step = 0; anyLeft; step++) {
            List<InferenceState> states = new ArrayList<>();
            List<int[]> inputs = new ArrayList<>();
            List<Integer> who = new ArrayList<>();
            boolean prefill = false, decode = false;
            anyLeft = false;
            for (int i = 0; i < seqs; i++) {
                if (step < joinAt[i] || seen[i] == decodeSteps[i] + 1) {
                    anyLeft |= step < joinAt[i];
                    continue;
                }
                anyLeft = true;
                if (st[i] == null) {
                    st[i] = e.newState();
                }
                if (fed[i] < prompts[i].length) {
                    int n = Math.min(piece, prompts[i].length - fed[i]);
                    inputs.add(Arrays.copyOfRange(prompts[i], fed[i], fed[i] + n));
                    fed[i] += n;
                    prefill = true;
                } else {
                    inputs.add(new int[] {decodeTokens.get(i)[seen[i] - 1]});
                    decode = true;
                }
                states.add(st[i]);
                who.add(i);
            }
            if (who.isEmpty()) {
                continue;
            }
            mixedPasses += prefill && decode ? 1 : 0;
            float[] got = e.forward(states.toArray(new InferenceState[0]), inputs.toArray(new int[0][]));
            for (int k = 0; k < who.size(); k++) {
                int i = who.get(k);
                if (fed[i] == prompts[i].length) {   // the prompt is complete: these logits count
                    assertClose(want.get(i).get(seen[i]), 0, got, k * v, v, kind + " sequence " + i + " logit " + seen[i]);
                    seen[i]++;
                }
            }
        }
        for (int i = 0; i < seqs; i++) {
            assertEquals(decodeSteps[i] + 1, seen[i], "sequence " + i);
        }
        assertTrue(mixedPasses > 0, "some pass mixed prompt pieces with decodes");
    }

    @Test
    void aStateTwiceInOnePassOrAnEmptyInputIsRefused() throws Exception {
        Engine e = engine("bf16");
        InferenceState s = e.newState();
        assertThrows(IllegalArgumentException.class, () -> e.forward(new InferenceState[] {s, s}, new int[][] {{1}, {2}}));
        assertThrows(IllegalArgumentException.class, () -> e.forward(new InferenceState[] {s}, new int[][] {{}}));
        assertThrows(IllegalArgumentException.class, () -> e.forward(new InferenceState[] {s}, new int[][] {{e.vocabSize()}}));
        assertEquals(0, s.position());
    }
}
