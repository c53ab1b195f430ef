package org.nestlm.infer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nestlm.io.DType;
import org.nestlm.io.FloatFormats;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The SIMD kernels agree with the scalar ones (and with a double-precision dot) for every weight dtype, for
 * column counts that leave a scalar tail, and for token counts that leave a remainder after blocks of four.
 */
class KernelsTest {

    enum WeightType { F32, BF16, F16 }

    @Test
    void theSurefireJvmUsesTheVectorKernels() {
        // surefire's argLine adds jdk.incubator.vector; without it the engine silently falls back
        assertTrue(Kernels.vectorized(), "expected the SIMD kernels in tests");
    }

    /** A [rows, cols] matrix with random values, stored little-endian as {@code dtype}, unaligned (offset 2). */
    private static MemorySegment matrix(Arena arena, DType dtype, int rows, int cols, float[] exact, Random r) {
        int size = dtype.byteSize();
        MemorySegment base = arena.allocate((long) rows * cols * size + 2);
        MemorySegment m = base.asSlice(2, (long) rows * cols * size);
        for (int i = 0; i < rows * cols; i++) {
            float f = (float) r.nextGaussian();
            switch (dtype) {
                case F32 -> m.set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4L * i, f);
                case BF16 -> m.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2L * i, FloatFormats.floatToBf16(f));
                case F16 -> m.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2L * i, FloatFormats.floatToF16(f));
                default -> throw new AssertionError();
            }
            exact[i] = ScalarKernels.load(m, dtype, (long) i * size);
        }
        return m.asReadOnly();
    }

    @ParameterizedTest
    @EnumSource(WeightType.class)
    void rowDotsAgreeWithTheReference(WeightType wt) {
        DType dtype = DType.valueOf(wt.name());
        Random r = new Random(1);
        Kernels vector = new VectorKernels(), scalar = new ScalarKernels();
        try (Arena arena = Arena.ofConfined()) {
            for (int cols : new int[] {1, 7, 16, 37, 64, 133}) {
                for (int tokens : new int[] {1, 3, 4, 9}) {
                    int rows = 5;
                    float[] exact = new float[rows * cols];
                    MemorySegment w = matrix(arena, dtype, rows, cols, exact, r);
                    float[] x = new float[tokens * cols];
                    for (int i = 0; i < x.length; i++) {
                        x[i] = (float) r.nextGaussian();
                    }
                    float[] yv = new float[tokens * rows], ys = new float[tokens * rows];
                    WeightMatrix wm = new WeightMatrix("w", rows, cols, dtype, w);
                    try (Parallel p = new Parallel(2)) {
                        wm.matmul(x, tokens, yv, p);
                    }
                    for (int row = 0; row < rows; row++) {
                        scalar.rowDots(w, dtype, (long) row * cols * dtype.byteSize(), cols, x, 0, tokens, ys, rows, row);
                        float[] yk = new float[tokens * rows];
                        vector.rowDots(w, dtype, (long) row * cols * dtype.byteSize(), cols, x, 0, tokens, yk, rows, row);
                        for (int t = 0; t < tokens; t++) {
                            double ref = 0;
                            for (int c = 0; c < cols; c++) {
                                ref += (double) exact[row * cols + c] * x[t * cols + c];
                            }
                            double tol = 1e-5 * Math.sqrt(cols) * 4;
                            String what = wt + " cols " + cols + " tokens " + tokens + " row " + row + " t " + t;
                            assertEquals(ref, ys[t * rows + row], tol, what + " scalar");
                            assertEquals(ref, yk[t * rows + row], tol, what + " vector");
                            assertEquals(ref, yv[t * rows + row], tol, what + " matmul");
                        }
                    }
                }
            }
        }
    }

    @Test
    void dotAndAxpyAgree() {
        Random r = new Random(2);
        Kernels vector = new VectorKernels(), scalar = new ScalarKernels();
        for (int n : new int[] {0, 1, 5, 8, 31, 100}) {
            float[] a = new float[n + 3], b = new float[n + 1];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) r.nextGaussian();
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = (float) r.nextGaussian();
            }
            assertEquals(scalar.dot(a, 3, b, 1, n), vector.dot(a, 3, b, 1, n), 1e-4);
            float[] y1 = b.clone(), y2 = b.clone();
            scalar.axpy(0.7f, a, 2, y1, 1, n);
            vector.axpy(0.7f, a, 2, y2, 1, n);
            for (int i = 0; i < y1.length; i++) {
                assertEquals(y1[i], y2[i], 1e-5);
            }
        }
    }
}
