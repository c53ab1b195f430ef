package org.nestlm.train;

import ai.djl.engine.Engine;
import org.nestlm.model.Tensors;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;
import org.nestlm.DjlTestBase;
import org.nestlm.dist.Communicator;
import org.nestlm.model.Param;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gradient all-reduce writes the reduced values back into libtorch's own gradients: checked against a stand-in
 * for a second rank (each float of the buffer mapped by a function, as an all-reduce with known partners would).
 */
class GradientAllReduceTest extends DjlTestBase {

    /** Rank 0 of a two-rank job whose reduction maps every float of the buffer with {@code f}. */
    private record FakeTwoRanks(UnaryOperator<Float> f) implements Communicator {
        public int rank() {
            return 0;
        }

        public int size() {
            return 2;
        }

        public void allreduce(MemorySegment buffer, Type type, Op op) {
            for (long i = 0; i < buffer.byteSize() / 4; i++) {
                buffer.setAtIndex(ValueLayout.JAVA_FLOAT, i, f.apply(buffer.getAtIndex(ValueLayout.JAVA_FLOAT, i)));
            }
        }

        public void broadcast(MemorySegment buffer, int root) {
        }

        public void barrier() {
        }

        public void abort(int code) {
            throw new AssertionError("abort " + code);
        }
    }

    /** Loss Σ c·w² / 2 over {@code used}: gradient c·w there, zeros for the other parameters. */
    private static void backward(Param used, float[] c) {
        try (NDManager scope = NDManager.newBaseManager();
             GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(Tensors.div(used.value().square().mul(Tensors.of(scope, c, used.value().getShape())).sum(), 2));
        }
    }

    @Test
    void reducedValuesReplaceTheGradientsInPlace() {
        float[] w = {0.5f, -1.5f, 2.0f, 0.25f}, c = {1f, 2f, -0.5f, 4f};
        Param a = new Param("a", Tensors.of(manager, w, new Shape(2, 2)), true);
        Param unused = new Param("unused", Tensors.of(manager, new float[] {1f, 2f}, new Shape(2)), false);
        a.value().setRequiresGradient(true);
        unused.value().setRequiresGradient(true);
        try (GradientAllReduce r = new GradientAllReduce(List.of(a, unused), new FakeTwoRanks(x -> x * 2 + 0.5f))) {
            backward(a, c);
            r.sum();
            float[] expect = new float[4];
            for (int i = 0; i < 4; i++) {
                expect[i] = 2 * (c[i] * w[i]) + 0.5f;
            }
            try (NDArray g = a.value().getGradient(); NDArray u = unused.value().getGradient()) {
                assertArrayEquals(expect, g.toFloatArray());
                assertArrayEquals(new float[] {0.5f, 0.5f}, u.toFloatArray(), "a parameter no backward reached: zeros, reduced");
            }
            assertTrue(r.nanos() > 0);
        }
    }
}
