package org.nestlm.infer;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nestlm.io.DType;

import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A sequence longer than the KV cache's first capacity (64, grown by doubling twice) and than one prefill
 * piece ({@link Engine#PREFILL_PIECE}): batched prefill, token-by-token decode, prefill in two uneven pieces and
 * a forked state all give the same logits at every position.
 */
class EngineLongSequenceTest {

    static final int LEN = Engine.PREFILL_PIECE + 44;
    static final double TOL = 1e-4;

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16"})
    void everyWayOfFeedingASequenceGivesTheSameLogits(DType dtype) throws Exception {
        Path model = InferTestModels.write(dir.resolve("m"), InferTestModels.hybrid(), dtype, 17);
        try (Engine engine = Engine.open(model, 2)) {
            int v = engine.vocabSize();
            int[] ids = InferTestModels.ids(LEN, v, 8);
            float[] prefill = engine.forward(engine.newState(), ids, true);                       // [LEN, V]

            InferenceState one = engine.newState();
            float[] stepwise = new float[LEN * v];
            InferenceState fork = null;
            for (int t = 0; t < LEN; t++) {
                System.arraycopy(engine.step(one, ids[t]), 0, stepwise, t * v, v);
                if (t == 99) {
                    fork = one.copy();
                }
            }
            assertClose(prefill, stepwise, "token by token");

            InferenceState two = engine.newState();
            float[] pieces = new float[LEN * v];
            int cut = 70;
            System.arraycopy(engine.forward(two, Arrays.copyOf(ids, cut), true), 0, pieces, 0, cut * v);
            System.arraycopy(engine.forward(two, Arrays.copyOfRange(ids, cut, LEN), true), 0, pieces, cut * v, (LEN - cut) * v);
            assertClose(prefill, pieces, "two prefill pieces");

            float[] forked = engine.forward(fork, Arrays.copyOfRange(ids, 100, LEN), true);
            assertClose(Arrays.copyOfRange(prefill, 100 * v, LEN * v), forked, "forked at position 100");
        }
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        double d = InferTestModels.maxAbsDiff(expected, actual);
        assertTrue(d <= TOL, what + ": max |Δlogit| " + d);
    }
}
