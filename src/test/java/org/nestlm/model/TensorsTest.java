package org.nestlm.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;
import org.nestlm.DjlTestBase;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Tensors made from Java values stay valid for the backward pass whatever the garbage collector does in between
 * (docs/REPRODUCIBILITY.md §1). Between forward and backward every test frees what Java can free and then
 * allocates and scribbles over fresh direct buffers, which is how freed Java memory under a saved tensor got
 * reused: with DJL's own {@code x.mul(0.125f)} the gradient of the first test came out as garbage every time.
 */
class TensorsTest extends DjlTestBase {

    /** Collects garbage and overwrites the direct memory that frees, several times. */
    static void churn() {
        List<ByteBuffer> hold = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            System.gc();
            for (int size = 4; size <= 1 << 16; size *= 4) {
                ByteBuffer b = ByteBuffer.allocateDirect(size);
                while (b.hasRemaining()) {
                    b.put((byte) 0x7f);     // as floats: 3.4e38 / NaN patterns
                }
                hold.add(b);
            }
        }
        hold.clear();
    }

    /** d/dx Σ f(x) at x, computed with a churn between forward and backward. */
    private static float[] gradient(NDManager m, float[] x0, Function<NDArray, NDArray> f) {
        try (NDManager scope = m.newSubManager(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray x = Tensors.of(scope, x0);
            x.setRequiresGradient(true);
            NDArray y = f.apply(x).sum();
            churn();
            gc.backward(y);
            return x.getGradient().toFloatArray();
        }
    }

    @Test
    void numbersInArithmeticStayValidForBackward() {
        float[] ones = new float[1024];
        java.util.Arrays.fill(ones, 1f);
        float[] eighth = new float[1024];
        java.util.Arrays.fill(eighth, 0.125f);
        float[] half = new float[1024];
        java.util.Arrays.fill(half, -0.5f);
        for (int trial = 0; trial < 20; trial++) {
            assertArrayEquals(eighth, gradient(manager, ones, x -> Tensors.mul(x, 0.125)), 0f, "x·0.125");
            assertArrayEquals(eighth, gradient(manager, ones, x -> Tensors.div(x, 8)), 0f, "x/8");
            assertArrayEquals(half, gradient(manager, ones, x -> Tensors.pow(x, -0.5)), 0f, "x^-0.5");
        }
    }

    @Test
    void arraysFromJavaStayValidForBackward() {
        float[] w = new float[256];
        for (int i = 0; i < w.length; i++) {
            w[i] = (i % 7) - 3;
        }
        float[] ones = new float[w.length];
        java.util.Arrays.fill(ones, 1f);
        for (int trial = 0; trial < 20; trial++) {
            // the mask is made, used and closed before the backward pass reads it
            assertArrayEquals(w, gradient(manager, ones, x -> {
                NDArray mask = Tensors.of(x.getManager(), w);
                NDArray y = x.mul(mask);
                mask.close();
                return y;
            }), 0f);
        }
    }

    @Test
    void modelGradientsDoNotDependOnGarbageCollection() {
        Architecture arch = Architecture.fromConfig(TestModels.hybrid());
        try (NemotronH model = NemotronH.initialize(arch, 11, manager)) {
            long[] ids = new long[2 * 24];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = (i * 37L + 5) % arch.config().vocabSize();
            }
            List<float[]> calm = gradients(model, ids, false);
            for (int trial = 0; trial < 3; trial++) {
                List<float[]> churned = gradients(model, ids, true);
                assertEquals(calm.size(), churned.size());
                for (int i = 0; i < calm.size(); i++) {
                    assertArrayEquals(calm.get(i), churned.get(i), 0f, List.copyOf(model.parameters().keySet()).get(i));
                }
            }
        }
    }

    private static List<float[]> gradients(NemotronH model, long[] ids, boolean churn) {
        List<float[]> out = new ArrayList<>();
        try (NDManager scope = manager.newSubManager(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            model.parameters().values().forEach(p -> p.value().setRequiresGradient(true));
            NDArray x = Tensors.of(scope, ids, new Shape(2, ids.length / 2));
            NDArray loss = model.forward(x).logSoftmax(-1).max(new int[] {-1}).mean().neg();
            if (churn) {
                churn();
            }
            gc.backward(loss);
            for (Param p : model.parameters().values()) {
                out.add(p.value().getGradient().toFloatArray());
                ai.djl.pytorch.jni.JniUtils.zeroGrad((ai.djl.pytorch.engine.PtNDArray) p.value());
            }
        }
        return out;
    }

    /** A storage view is libtorch's own memory, written through in place; a transposed (non-contiguous) tensor is refused. */
    @Test
    void storageIsAViewOfTheTensorsOwnMemoryAndRefusesNonContiguousTensors() {
        NDArray x = Tensors.of(manager, new float[] {1, 2, 3, 4, 5, 6}, new Shape(2, 3));
        java.lang.foreign.MemorySegment s = Tensors.storage(x);
        s.set(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, 4 * Float.BYTES, 50f);
        assertArrayEquals(new float[] {1, 2, 3, 4, 50, 6}, x.toFloatArray());
        NDArray t = x.transpose();
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> Tensors.storage(t));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("contiguous"), e.getMessage());
    }
}
