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
            for (int cols : new int[] {1, 7, 16, 37, 64, 133, 256}) {
                for (int tokens : new int[] {1, 3, 4, 9}) {   // 9: two blocks of four and a single token
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
                        float[] xa = new float[x.length];   // the vector kernel reads BF16 against arranged activations
                        for (int t = 0; t < tokens; t++) {
                            vector.arrange(dtype, x, t * cols, cols, xa, t * cols);
                        }
                        vector.rowDots(w, dtype, (long) row * cols * dtype.byteSize(), cols, xa, 0, tokens, yk, rows, row);
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

    /** Two rows at once give each row what the one-row kernel gives it (any token count, with a column tail). */
    @Test
    void rowPairDotsEqualRowDotsRowByRow() {
        Random r = new Random(4);
        Kernels vector = new VectorKernels();
        try (Arena arena = Arena.ofConfined()) {
            for (int cols : new int[] {7, 64, 133, 1024}) {
                float[] exact = new float[2 * cols];
                MemorySegment w = matrix(arena, DType.BF16, 2, cols, exact, r);
                for (int tokens = 1; tokens <= 7; tokens++) {
                    float[] x = new float[tokens * cols];
                    for (int i = 0; i < x.length; i++) {
                        x[i] = (float) r.nextGaussian();
                    }
                    float[] pair = new float[tokens * 2], one = new float[tokens * 2];
                    vector.rowPairDots(w, DType.BF16, 0, 2L * cols, cols, x, 0, tokens, pair, 2, 0);
                    vector.rowDots(w, DType.BF16, 0, cols, x, 0, tokens, one, 2, 0);
                    vector.rowDots(w, DType.BF16, 2L * cols, cols, x, 0, tokens, one, 2, 1);
                    for (int i = 0; i < one.length; i++) {
                        assertEquals(one[i], pair[i], 1e-6 * Math.max(1, Math.abs(one[i])), "cols " + cols + " tokens " + tokens + " at " + i);
                    }
                }
            }
        }
    }

    /**
     * A tile of any shape (1 to 4 rows, any token count, F32 and BF16, with a column tail) gives every output the
     * bits the one-row, one-token kernel gives it: a projection does not depend on what shares its product.
     */
    @ParameterizedTest
    @EnumSource(value = WeightType.class, names = {"F32", "BF16"})
    void everyTileShapeGivesTheBitsOfOneRowAndOneToken(WeightType wt) {
        DType dtype = DType.valueOf(wt.name());
        Random r = new Random(7);
        Kernels vector = new VectorKernels();
        try (Arena arena = Arena.ofConfined()) {
            for (int cols : new int[] {7, 64, 133, 1024}) {
                float[] exact = new float[4 * cols];
                MemorySegment w = matrix(arena, dtype, 4, cols, exact, r);
                long rb = (long) cols * dtype.byteSize();
                for (int tokens = 1; tokens <= 9; tokens++) {
                    float[] x = new float[tokens * cols];
                    for (int i = 0; i < x.length; i++) {
                        x[i] = (float) r.nextGaussian();
                    }
                    float[] one = new float[tokens * 4];
                    for (int row = 0; row < 4; row++) {
                        for (int t = 0; t < tokens; t++) {
                            vector.rowDots(w, dtype, row * rb, cols, x, t * cols, 1, one, 4, t * 4 + row);
                        }
                    }
                    for (int nr = 1; nr <= 4; nr++) {
                        float[] tile = new float[tokens * 4];
                        java.util.Arrays.fill(tile, Float.NaN);
                        vector.tileDots(w, dtype, 0, rb, 2 * rb, 3 * rb, nr, cols, x, 0, tokens, tile, 4, 0);
                        for (int t = 0; t < tokens; t++) {
                            for (int i = 0; i < 4; i++) {
                                String what = wt + " cols " + cols + " tokens " + tokens + " rows " + nr + " at " + t + "," + i;
                                if (i < nr) {
                                    assertEquals(Float.floatToIntBits(one[t * 4 + i]), Float.floatToIntBits(tile[t * 4 + i]), what);
                                } else {
                                    assertTrue(Float.isNaN(tile[t * 4 + i]), what + ": a row past the tile is not written");
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void arrangeSplitsEachRunIntoEvenThenOddColumnsAndKeepsTheTail() {
        Kernels vector = new VectorKernels();
        int lanes = VectorKernels.lanes(), run = 2 * lanes;
        for (int n : new int[] {0, 5, run, 2 * run - 1, 2 * run, 3 * run + 7}) {
            float[] x = new float[n + 2], out = new float[n + 1];
            for (int i = 0; i < x.length; i++) {
                x[i] = i;
            }
            vector.arrange(DType.F32, x, 2, n, out, 1);
            for (int i = 0; i < n; i++) {
                assertEquals(x[2 + i], out[1 + i], "F32: column order");
            }
            vector.arrange(DType.BF16, x, 2, n, out, 1);
            int whole = n - n % run;
            for (int c = 0; c < whole; c += run) {
                for (int j = 0; j < lanes; j++) {
                    assertEquals(x[2 + c + 2 * j], out[1 + c + j], "run at " + c + ", even column " + j);
                    assertEquals(x[2 + c + 2 * j + 1], out[1 + c + lanes + j], "run at " + c + ", odd column " + j);
                }
            }
            for (int c = whole; c < n; c++) {
                assertEquals(x[2 + c], out[1 + c], "tail column " + c);
            }
        }
    }

    @Test
    void dotAgrees() {
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
        }
    }

    /** Widths that use the four-vector loop, the one-vector loop and the scalar tail, on a strided matrix. */
    @Test
    void combineRowsAgreesWithTheReference() {
        Random r = new Random(6);
        Kernels[] impls = {new VectorKernels(), new ScalarKernels()};
        for (int n : new int[] {1, 8, 13, 32, 45}) {
            for (int rows : new int[] {0, 1, 7}) {
                int stride = n + 3;
                float[] a = new float[2 + rows * stride], c = new float[1 + rows];
                for (float[] v : new float[][] {a, c}) {
                    for (int i = 0; i < v.length; i++) {
                        v[i] = (float) r.nextGaussian();
                    }
                }
                for (Kernels k : impls) {
                    float[] y = new float[n + 2];
                    java.util.Arrays.fill(y, 9f);
                    k.combineRows(a, 2, stride, rows, c, 1, y, 1, n);
                    for (int i = 0; i < n; i++) {
                        double ref = 0;
                        for (int row = 0; row < rows; row++) {
                            ref += (double) c[1 + row] * a[2 + row * stride + i];
                        }
                        assertEquals(ref, y[1 + i], 1e-5, k.getClass().getSimpleName() + " n " + n + " rows " + rows + " i " + i);
                    }
                    assertEquals(9f, y[0]);
                    assertEquals(9f, y[n + 1]);
                }
            }
        }
    }

    /** The scan step against a double-precision reference, for widths with and without a scalar tail. */
    @Test
    void scanStepAgreesWithTheReference() {
        Random r = new Random(3);
        Kernels[] impls = {new VectorKernels(), new ScalarKernels()};
        for (int channels : new int[] {3, 8, 13, 64}) {
            for (int states : new int[] {1, 5, 16}) {
                float[] s0 = new float[2 + states * channels], x = new float[1 + channels], bc = new float[4 + 2 * states];
                for (float[] a : new float[][] {s0, x, bc}) {
                    for (int i = 0; i < a.length; i++) {
                        a[i] = (float) r.nextGaussian();
                    }
                }
                float decay = 0.83f, dt = 0.37f, d = -0.6f;
                double[] refS = new double[s0.length], refY = new double[channels];
                for (int p = 0; p < channels; p++) {
                    refY[p] = (double) d * x[1 + p];
                    for (int n = 0; n < states; n++) {
                        int o = 2 + n * channels + p;
                        refS[o] = (double) decay * s0[o] + (double) dt * bc[4 + n] * x[1 + p];
                        refY[p] += bc[4 + states + n] * refS[o];
                    }
                }
                for (Kernels k : impls) {
                    float[] st = s0.clone(), y = new float[channels + 1];
                    k.scanStep(st, 2, states, channels, decay, dt, d, x, 1, bc, 4, 4 + states, y, 1);
                    String what = k.getClass().getSimpleName() + " P " + channels + " N " + states;
                    for (int p = 0; p < channels; p++) {
                        assertEquals(refY[p], y[1 + p], 1e-5 * states, what + " y[" + p + "]");
                        for (int n = 0; n < states; n++) {
                            int o = 2 + n * channels + p;
                            assertEquals(refS[o], st[o], 1e-5, what + " s[" + n + ", " + p + "]");
                        }
                    }
                    assertEquals(s0[0], st[0], "outside the head's state");
                }
            }
        }
    }

    @Test
    void mulAddAgrees() {
        Random r = new Random(4);
        Kernels vector = new VectorKernels(), scalar = new ScalarKernels();
        for (int n : new int[] {0, 3, 8, 29}) {
            float[] a = new float[n + 1], b = new float[n + 2], y = new float[n + 3];
            for (float[] v : new float[][] {a, b, y}) {
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) r.nextGaussian();
                }
            }
            float[] y1 = y.clone(), y2 = y.clone();
            scalar.mulAdd(a, 1, b, 2, y1, 3, n);
            vector.mulAdd(a, 1, b, 2, y2, 3, n);
            for (int i = 0; i < y.length; i++) {
                assertEquals(i < 3 ? y[i] : y[i] + a[i - 2] * b[i - 1], y1[i], 1e-5, "scalar " + i);
                assertEquals(y1[i], y2[i], 1e-5, "vector " + i);
            }
        }
    }

    @Test
    void softmaxAgreesWithTheReference() {
        Random r = new Random(5);
        Kernels[] impls = {new VectorKernels(), new ScalarKernels()};
        for (int n : new int[] {1, 7, 8, 50}) {
            float[] x = new float[n + 2];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (4 * r.nextGaussian());
            }
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int i = 0; i < n; i++) {
                max = Math.max(max, x[1 + i]);
            }
            for (int i = 0; i < n; i++) {
                sum += Math.exp(x[1 + i] - max);
            }
            for (Kernels k : impls) {
                float[] y = x.clone();
                k.softmax(y, 1, n);
                for (int i = 0; i < n; i++) {
                    double ref = Math.exp(x[1 + i] - max) / sum;
                    assertEquals(ref, y[1 + i], 1e-6 + 1e-5 * ref, k.getClass().getSimpleName() + " n " + n + " i " + i);
                }
                assertEquals(x[0], y[0]);
                assertEquals(x[n + 1], y[n + 1]);
            }
        }
    }

    @Test
    void siluAgreesWithTheReference() {
        Kernels[] impls = {new VectorKernels(), new ScalarKernels()};
        for (int n : new int[] {1, 8, 21}) {
            float[] x = new float[n + 2];
            for (int i = 0; i < x.length; i++) {
                x[i] = -30f + 60f * i / x.length;   // both tails of the sigmoid
            }
            for (Kernels k : impls) {
                float[] y = x.clone();
                k.silu(y, 1, n);
                for (int i = 0; i < n; i++) {
                    double v = x[1 + i], ref = v / (1 + Math.exp(-v));
                    assertEquals(ref, y[1 + i], 1e-6 * Math.max(1, Math.abs(ref)), k.getClass().getSimpleName() + " x " + v);
                }
                assertEquals(x[0], y[0]);
                assertEquals(x[n + 1], y[n + 1]);
            }
        }
    }
}
