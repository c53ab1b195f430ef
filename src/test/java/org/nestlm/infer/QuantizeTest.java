package org.nestlm.infer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.model.Checkpoint;
import org.nestlm.io.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** int8 weight quantisation ({@code --quantize q8}): the kernels, the quantiser and the logits of a small model. */
class QuantizeTest {

    private static double refDot(MemorySegment q, long off, float[] scales, int sOff, int cols, float[] x, int xOff) {
        double acc = 0;
        for (int c = 0; c < cols; c++) {
            acc += (double) q.get(ValueLayout.JAVA_BYTE, off + c) * scales[sOff + c / WeightMatrix.Q8_GROUP] * x[xOff + c];
        }
        return acc;
    }

    @Test
    void q8KernelsAgreeWithTheReference() {
        Random r = new Random(5);
        Kernels vector = new VectorKernels(), scalar = new ScalarKernels();
        for (int cols : new int[] {1, 31, 32, 33, 64, 100, 256, 517}) {
            int groups = (cols + 31) / 32;
            MemorySegment q = Arena.ofAuto().allocate(3L * cols + 1).asSlice(1);   // unaligned rows
            for (long i = 0; i < 3L * cols; i++) {
                q.set(ValueLayout.JAVA_BYTE, i, (byte) (r.nextInt(255) - 127));
            }
            float[] scales = new float[3 * groups];
            for (int i = 0; i < scales.length; i++) {
                scales[i] = r.nextFloat() * 0.02f;
            }
            float[] x = new float[cols + 3];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            for (int row = 0; row < 3; row++) {
                double ref = refDot(q, (long) row * cols, scales, row * groups, cols, x, 3);
                float s = scalar.rowDotQ8(q, (long) row * cols, scales, row * groups, cols, x, 3);
                float v = vector.rowDotQ8(q, (long) row * cols, scales, row * groups, cols, x, 3);
                double tol = 1e-5 * Math.max(1, Math.sqrt(cols) * 127 * 0.02);
                assertEquals(ref, s, tol, "scalar, cols " + cols);
                assertEquals(ref, v, tol, "vector, cols " + cols);
                // the scalar fallback and the SIMD kernel agree to float rounding
                assertEquals(s, v, tol, "scalar vs vector, cols " + cols);
            }
        }
    }

    /** An int8 tile of any shape gives every output the bits of the one-row, one-token kernel. */
    @Test
    void everyQ8TileShapeGivesTheBitsOfOneRowAndOneToken() {
        Random r = new Random(8);
        Kernels vector = new VectorKernels();
        for (int cols : new int[] {31, 64, 100}) {
            int groups = (cols + 31) / 32;
            MemorySegment q = Arena.ofAuto().allocate(4L * cols);
            for (long i = 0; i < 4L * cols; i++) {
                q.set(ValueLayout.JAVA_BYTE, i, (byte) (r.nextInt(255) - 127));
            }
            float[] scales = new float[4 * groups];
            for (int i = 0; i < scales.length; i++) {
                scales[i] = r.nextFloat() * 0.02f;
            }
            for (int tokens = 1; tokens <= 5; tokens++) {
                float[] x = new float[tokens * cols];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) r.nextGaussian();
                }
                for (int nr = 1; nr <= 4; nr++) {
                    float[] tile = new float[tokens * 4];
                    vector.tileDotsQ8(q, 0, scales, 0, groups, nr, cols, x, 0, tokens, tile, 4, 0);
                    for (int t = 0; t < tokens; t++) {
                        for (int i = 0; i < nr; i++) {
                            float one = vector.rowDotQ8(q, (long) i * cols, scales, i * groups, cols, x, t * cols);
                            assertEquals(Float.floatToIntBits(one), Float.floatToIntBits(tile[t * 4 + i]),
                                    "cols " + cols + " tokens " + tokens + " rows " + nr + " at " + t + "," + i);
                        }
                    }
                }
            }
        }
    }

    @Test
    void quantizedMatmulIsTheDequantizedMatrixTimesX() {
        Random r = new Random(9);
        int rows = 7, cols = 100;
        MemorySegment w = Arena.ofAuto().allocate(4L * rows * cols);
        float[] exact = new float[rows * cols];
        for (int i = 0; i < exact.length; i++) {
            exact[i] = (float) r.nextGaussian();
            w.set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4L * i, exact[i]);
        }
        WeightMatrix m = new WeightMatrix("w", rows, cols, DType.F32, w);
        WeightMatrix q = m.quantized();
        assertTrue(q.isQuantized());
        assertSame(q, q.quantized());
        assertEquals((long) rows * cols + rows * 4L * 4, q.byteSize());
        float[] deq = new float[cols];
        for (int row = 0; row < rows; row++) {
            q.row(row, deq, 0);
            for (int c = 0; c < cols; c++) {
                // symmetric rounding: error at most half a step of the group's scale
                float amax = 0;
                int g0 = c / 32 * 32;
                for (int k = g0; k < Math.min(cols, g0 + 32); k++) {
                    amax = Math.max(amax, Math.abs(exact[row * cols + k]));
                }
                assertTrue(Math.abs(deq[c] - exact[row * cols + c]) <= amax / 127 * 0.5001 + 1e-7, "row " + row + " col " + c);
            }
        }
        try (Parallel p = new Parallel(2)) {
            for (int tokens : new int[] {1, 3}) {
                float[] x = new float[tokens * cols];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) r.nextGaussian();
                }
                float[] y = new float[tokens * rows];
                q.matmul(x, tokens, y, p);
                for (int t = 0; t < tokens; t++) {
                    for (int row = 0; row < rows; row++) {
                        q.row(row, deq, 0);
                        double ref = 0;
                        for (int c = 0; c < cols; c++) {
                            ref += (double) deq[c] * x[t * cols + c];
                        }
                        assertEquals(ref, y[t * rows + row], 1e-4, "token " + t + " row " + row);
                    }
                }
            }
        }
    }

    @Test
    void q8LogitsStayCloseToTheF32Logits(@TempDir Path tmp) throws Exception {
        Path dir = InferTestModels.write(tmp.resolve("m"), InferTestModels.hybrid(), DType.F32, 11);
        try (Checkpoint c = Checkpoint.open(dir); Parallel parallel = new Parallel(2);
             Engine f32 = Engine.of(c, parallel); Engine q8 = Engine.of(c, parallel, null, true)) {
            assertTrue(q8.quantized());
            assertTrue(q8.weightBytesPerToken() < 0.6 * f32.weightBytesPerToken());
            int vocab = f32.vocabSize();
            int[] ids = InferTestModels.ids(12, vocab, 3);
            InferenceState sf = f32.newState(), sq = q8.newState();
            float[] lf = f32.forward(sf, ids, true), lq = q8.forward(sq, ids, true);
            double scale = 0;
            for (float v : lf) {
                scale = Math.max(scale, Math.abs(v));
            }
            double diff = InferTestModels.maxAbsDiff(lf, lq);
            assertTrue(diff < 0.05 * scale + 1e-3, "prefill |Δlogit| " + diff + " vs logit scale " + scale);
            // greedy decode from the same prompt: mostly the same tokens
            int same = 0, steps = 16;
            int tf = InferTestModels.argmax(lf, (ids.length - 1) * vocab, vocab), tq = InferTestModels.argmax(lq, (ids.length - 1) * vocab, vocab);
            for (int i = 0; i < steps; i++) {
                same += tf == tq ? 1 : 0;
                float[] a = f32.step(sf, tf), b = q8.step(sq, tf);
                double d = InferTestModels.maxAbsDiff(a, b);
                assertTrue(d < 0.05 * scale + 1e-3, "decode |Δlogit| " + d);
                tf = InferTestModels.argmax(a, 0, vocab);
                tq = InferTestModels.argmax(b, 0, vocab);
            }
            assertTrue(same >= steps * 3 / 4, same + " of " + steps + " greedy tokens equal");
        }
    }
}
