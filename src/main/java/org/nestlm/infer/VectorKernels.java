package org.nestlm.infer;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.nestlm.io.DType;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * SIMD kernels on {@code jdk.incubator.vector} with the machine's preferred float width ({@code L} lanes).
 * BF16 weights are widened in registers without a lane shuffle: {@code 2L} weights are loaded as {@code L}
 * little-endian ints, each holding an even column in its low half and the next odd column in its high half, and
 * a BF16 value is the upper half of an F32, so {@code int << 16} gives the even columns and
 * {@code int & 0xFFFF0000} the odd ones. The activations are {@link #arrange arranged} to match once per product:
 * every run of {@code 2L} columns becomes its {@code L} even columns, then its {@code L} odd ones (a tail shorter
 * than a run stays in column order and is dotted by the scalar code). Widening {@code L} shorts by sign
 * extension instead costs a lane-crossing shuffle per vector, which makes decode of a BF16 model that much slower
 * (docs/CHANGELOG.md, "Decode kernels"). F16 uses the scalar path (rare in checkpoints). Products are register
 * tiles of four weight rows × up to four tokens: per run of columns each of the four rows' weights is loaded and
 * widened once and serves every token of the tile, each token's activations are loaded once and serve all four
 * rows, and the sixteen sums stay in registers (one accumulator each, fed in column order, so an output has the
 * same bits in every tile shape and whatever shares its product).
 *
 * <p>Every vector loop is a method of its own that calls nothing but the Vector API: C2 inlines the API's
 * force-inline methods past its node budget but not helpers of ours, and a helper left as a call gets its vectors
 * boxed (a tile whose sums went through a small helper method ran 10x slower), as does one large method past
 * the budget (the first BF16 kernel made {@code bench decode} 2.5x slower for that reason). The tile methods are
 * therefore written out in full: no loops over vectors, no helpers.
 */
final class VectorKernels implements Kernels {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    /** L bytes (a quarter of the float width), widened to L floats for int8 weights; null when too narrow. */
    private static final VectorSpecies<Byte> B = F.vectorBitSize() >= 256 && WeightMatrix.Q8_GROUP % F.length() == 0
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(F.vectorBitSize() / 4)) : null;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /** Floats per vector. */
    static int lanes() {
        return L;
    }

    /** Vectors of fewer than 4 floats are left to the scalar kernels. */
    boolean usable() {
        return L >= 4;
    }


    /**
     * Four rows at a time (a tile of fewer repeats its first row, read from cache and never stored), four tokens
     * at a time, then three, two or one; columns past the last whole vector step (BF16: a run of 2L) go to the
     * scalar tail. A call for one token takes its rows one after another instead: with one token there is no
     * activation load to share, and a single read stream is what the hardware prefetcher follows best (on an
     * AMD EPYC core four interleaved rows streamed at 8 GB/s, one row at a time at 22; docs/PERFORMANCE.md,
     * *One read stream*). Every (row, token) output has one accumulator fed in column order, the same in every
     * tile shape, so a product's outputs do not depend on how many tokens share it or how its rows are tiled: a
     * sequence decoded alone, inside a batch or as part of its prompt gets bit-identical projections.
     */
    @Override
    public void tileDots(MemorySegment w, DType dtype, long r0, long r1, long r2, long r3, int nr, int cols,
                         float[] x, int xOff, int tokens, float[] y, int yStride, int yIndex) {
        if (dtype != DType.BF16 && dtype != DType.F32) {
            ScalarKernels.tileDotsScalar(w, dtype, r0, r1, r2, r3, nr, cols, x, xOff, tokens, y, yStride, yIndex, 0);
            return;
        }
        boolean bf16 = dtype == DType.BF16;
        int upper = bf16 ? cols - cols % (2 * L) : F.loopBound(cols);
        if (tokens == 1) {
            for (int i = 0; i < nr; i++) {
                long r = i == 0 ? r0 : i == 1 ? r1 : i == 2 ? r2 : r3;
                y[yIndex + i] = bf16 ? bf16Row(w, r, upper, x, xOff) : f32Row(w, r, upper, x, xOff);
            }
            if (upper < cols) {
                ScalarKernels.tileDotsScalar(w, dtype, r0, r1, r2, r3, nr, cols, x, xOff, 1, y, yStride, yIndex, upper);
            }
            return;
        }
        long q1 = nr > 1 ? r1 : r0, q2 = nr > 2 ? r2 : r0, q3 = nr > 3 ? r3 : r0;
        int t = 0;
        for (; t < tokens; ) {
            int x0 = xOff + t * cols, y0 = yIndex + t * yStride, left = tokens - t;
            if (left >= 4) {
                if (bf16) {
                    bf16Rows4Tokens4(w, r0, q1, q2, q3, upper, x, x0, cols, y, y0, yStride, nr);
                } else {
                    f32Rows4Tokens4(w, r0, q1, q2, q3, upper, x, x0, cols, y, y0, yStride, nr);
                }
                t += 4;
            } else if (left == 3) {
                if (bf16) {
                    bf16Rows4Tokens3(w, r0, q1, q2, q3, upper, x, x0, cols, y, y0, yStride, nr);
                } else {
                    f32Rows4Tokens3(w, r0, q1, q2, q3, upper, x, x0, cols, y, y0, yStride, nr);
                }
                t += 3;
            } else if (left == 2) {
                if (bf16) {
                    bf16Rows4Tokens2(w, r0, q1, q2, q3, upper, x, x0, cols, y, y0, yStride, nr);
                } else {
                    f32Rows4Tokens2(w, r0, q1, q2, q3, upper, x, x0, cols, y, y0, yStride, nr);
                }
                t += 2;
            } else {
                if (bf16) {
                    bf16Rows4Tokens1(w, r0, q1, q2, q3, upper, x, x0, cols, y, y0, yStride, nr);
                } else {
                    f32Rows4Tokens1(w, r0, q1, q2, q3, upper, x, x0, cols, y, y0, yStride, nr);
                }
                t += 1;
            }
        }
        if (upper < cols) {
            ScalarKernels.tileDotsScalar(w, dtype, r0, r1, r2, r3, nr, cols, x, xOff, tokens, y, yStride, yIndex, upper);
        }
    }

    /** BF16, one row × 1 token, the columns below {@code upper}: see {@link #tileDots}. */
    private static float bf16Row(MemorySegment w, long r0, int upper, float[] x, int x0) {
        FloatVector a00 = FloatVector.zero(F);
        for (int c = 0; c < upper; c += 2 * L) {
            IntVector p0 = IntVector.fromMemorySegment(I, w, r0 + 2L * c, LE);
            FloatVector e0 = p0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector d0 = p0.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector xe = FloatVector.fromArray(F, x, x0 + c);
            FloatVector xo = FloatVector.fromArray(F, x, x0 + c + L);
            a00 = d0.fma(xo, e0.fma(xe, a00));
        }
        return a00.reduceLanes(VectorOperators.ADD);
    }

    /** F32, one row × 1 token, the columns below {@code upper}: see {@link #tileDots}. */
    private static float f32Row(MemorySegment w, long r0, int upper, float[] x, int x0) {
        FloatVector a00 = FloatVector.zero(F);
        for (int c = 0; c < upper; c += L) {
            a00 = FloatVector.fromMemorySegment(F, w, r0 + 4L * c, LE).fma(FloatVector.fromArray(F, x, x0 + c), a00);
        }
        return a00.reduceLanes(VectorOperators.ADD);
    }

    /** BF16, four rows × 4 tokens: see {@link #tileDots}. */
    private static void bf16Rows4Tokens4(MemorySegment w, long r0, long r1, long r2, long r3, int upper,
                                          float[] x, int x0, int cols, float[] y, int y0, int yStride, int nr) {
        int x1 = x0 + cols;
        int x2 = x1 + cols;
        int x3 = x2 + cols;
        FloatVector a00 = FloatVector.zero(F), a10 = FloatVector.zero(F), a20 = FloatVector.zero(F), a30 = FloatVector.zero(F);
        FloatVector a01 = FloatVector.zero(F), a11 = FloatVector.zero(F), a21 = FloatVector.zero(F), a31 = FloatVector.zero(F);
        FloatVector a02 = FloatVector.zero(F), a12 = FloatVector.zero(F), a22 = FloatVector.zero(F), a32 = FloatVector.zero(F);
        FloatVector a03 = FloatVector.zero(F), a13 = FloatVector.zero(F), a23 = FloatVector.zero(F), a33 = FloatVector.zero(F);
        for (int c = 0; c < upper; c += 2 * L) {
            long o = 2L * c;
            IntVector p0 = IntVector.fromMemorySegment(I, w, r0 + o, LE);
            IntVector p1 = IntVector.fromMemorySegment(I, w, r1 + o, LE);
            IntVector p2 = IntVector.fromMemorySegment(I, w, r2 + o, LE);
            IntVector p3 = IntVector.fromMemorySegment(I, w, r3 + o, LE);
            FloatVector e0 = p0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector d0 = p0.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector e1 = p1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector d1 = p1.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector e2 = p2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector d2 = p2.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector e3 = p3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector d3 = p3.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector xe = FloatVector.fromArray(F, x, x0 + c);
            FloatVector xo = FloatVector.fromArray(F, x, x0 + c + L);
            a00 = d0.fma(xo, e0.fma(xe, a00));
            a10 = d1.fma(xo, e1.fma(xe, a10));
            a20 = d2.fma(xo, e2.fma(xe, a20));
            a30 = d3.fma(xo, e3.fma(xe, a30));
            xe = FloatVector.fromArray(F, x, x1 + c);
            xo = FloatVector.fromArray(F, x, x1 + c + L);
            a01 = d0.fma(xo, e0.fma(xe, a01));
            a11 = d1.fma(xo, e1.fma(xe, a11));
            a21 = d2.fma(xo, e2.fma(xe, a21));
            a31 = d3.fma(xo, e3.fma(xe, a31));
            xe = FloatVector.fromArray(F, x, x2 + c);
            xo = FloatVector.fromArray(F, x, x2 + c + L);
            a02 = d0.fma(xo, e0.fma(xe, a02));
            a12 = d1.fma(xo, e1.fma(xe, a12));
            a22 = d2.fma(xo, e2.fma(xe, a22));
            a32 = d3.fma(xo, e3.fma(xe, a32));
            xe = FloatVector.fromArray(F, x, x3 + c);
            xo = FloatVector.fromArray(F, x, x3 + c + L);
            a03 = d0.fma(xo, e0.fma(xe, a03));
            a13 = d1.fma(xo, e1.fma(xe, a13));
            a23 = d2.fma(xo, e2.fma(xe, a23));
            a33 = d3.fma(xo, e3.fma(xe, a33));
        }
        y[y0] = a00.reduceLanes(VectorOperators.ADD);
        if (nr > 1) {
            y[y0 + 1] = a10.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 2) {
            y[y0 + 2] = a20.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 3) {
            y[y0 + 3] = a30.reduceLanes(VectorOperators.ADD);
        }
        y[y0 + yStride] = a01.reduceLanes(VectorOperators.ADD);
        if (nr > 1) {
            y[y0 + yStride + 1] = a11.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 2) {
            y[y0 + yStride + 2] = a21.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 3) {
            y[y0 + yStride + 3] = a31.reduceLanes(VectorOperators.ADD);
        }
        y[y0 + 2 * yStride] = a02.reduceLanes(VectorOperators.ADD);
        if (nr > 1) {
            y[y0 + 2 * yStride + 1] = a12.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 2) {
            y[y0 + 2 * yStride + 2] = a22.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 3) {
            y[y0 + 2 * yStride + 3] = a32.reduceLanes(VectorOperators.ADD);
        }
        y[y0 + 3 * yStride] = a03.reduceLanes(VectorOperators.ADD);
        if (nr > 1) {
            y[y0 + 3 * yStride + 1] = a13.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 2) {
            y[y0 + 3 * yStride + 2] = a23.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 3) {
            y[y0 + 3 * yStride + 3] = a33.reduceLanes(VectorOperators.ADD);
        }
    }

    /** BF16, four rows × 3 tokens: see {@link #tileDots}. */
    private static void bf16Rows4Tokens3(MemorySegment w, long r0, long r1, long r2, long r3, int upper,
                                          float[] x, int x0, int cols, float[] y, int y0, int yStride, int nr) {
        int x1 = x0 + cols;
        int x2 = x1 + cols;
        FloatVector a00 = FloatVector.zero(F), a10 = FloatVector.zero(F), a20 = FloatVector.zero(F), a30 = FloatVector.zero(F);
        FloatVector a01 = FloatVector.zero(F), a11 = FloatVector.zero(F), a21 = FloatVector.zero(F), a31 = FloatVector.zero(F);
        FloatVector a02 = FloatVector.zero(F), a12 = FloatVector.zero(F), a22 = FloatVector.zero(F), a32 = FloatVector.zero(F);
        for (int c = 0; c < upper; c += 2 * L) {
            long o = 2L * c;
            IntVector p0 = IntVector.fromMemorySegment(I, w, r0 + o, LE);
            IntVector p1 = IntVector.fromMemorySegment(I, w, r1 + o, LE);
            IntVector p2 = IntVector.fromMemorySegment(I, w, r2 + o, LE);
            IntVector p3 = IntVector.fromMemorySegment(I, w, r3 + o, LE);
            FloatVector e0 = p0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector d0 = p0.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector e1 = p1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector d1 = p1.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector e2 = p2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector d2 = p2.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector e3 = p3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector d3 = p3.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector xe = FloatVector.fromArray(F, x, x0 + c);
            FloatVector xo = FloatVector.fromArray(F, x, x0 + c + L);
            a00 = d0.fma(xo, e0.fma(xe, a00));
            a10 = d1.fma(xo, e1.fma(xe, a10));
            a20 = d2.fma(xo, e2.fma(xe, a20));
            a30 = d3.fma(xo, e3.fma(xe, a30));
            xe = FloatVector.fromArray(F, x, x1 + c);
            xo = FloatVector.fromArray(F, x, x1 + c + L);
            a01 = d0.fma(xo, e0.fma(xe, a01));
            a11 = d1.fma(xo, e1.fma(xe, a11));
            a21 = d2.fma(xo, e2.fma(xe, a21));
            a31 = d3.fma(xo, e3.fma(xe, a31));
            xe = FloatVector.fromArray(F, x, x2 + c);
            xo = FloatVector.fromArray(F, x, x2 + c + L);
            a02 = d0.fma(xo, e0.fma(xe, a02));
            a12 = d1.fma(xo, e1.fma(xe, a12));
            a22 = d2.fma(xo, e2.fma(xe, a22));
            a32 = d3.fma(xo, e3.fma(xe, a32));
        }
        y[y0] = a00.reduceLanes(VectorOperators.ADD);
        if (nr > 1) {
            y[y0 + 1] = a10.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 2) {
            y[y0 + 2] = a20.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 3) {
            y[y0 + 3] = a30.reduceLanes(VectorOperators.ADD);
        }
        y[y0 + yStride] = a01.reduceLanes(VectorOperators.ADD);
        if (nr > 1) {
            y[y0 + yStride + 1] = a11.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 2) {
            y[y0 + yStride + 2] = a21.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 3) {
            y[y0 + yStride + 3] = a31.reduceLanes(VectorOperators.ADD);
        }
        y[y0 + 2 * yStride] = a02.reduceLanes(VectorOperators.ADD);
        if (nr > 1) {
            y[y0 + 2 * yStride + 1] = a12.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 2) {
            y[y0 + 2 * yStride + 2] = a22.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 3) {
            y[y0 + 2 * yStride + 3] = a32.reduceLanes(VectorOperators.ADD);
        }
    }

    /** BF16, four rows × 2 tokens: see {@link #tileDots}. */
    private static void bf16Rows4Tokens2(MemorySegment w, long r0, long r1, long r2, long r3, int upper,
                                          float[] x, int x0, int cols, float[] y, int y0, int yStride, int nr) {
        int x1 = x0 + cols;
        FloatVector a00 = FloatVector.zero(F), a10 = FloatVector.zero(F), a20 = FloatVector.zero(F), a30 = FloatVector.zero(F);
        FloatVector a01 = FloatVector.zero(F), a11 = FloatVector.zero(F), a21 = FloatVector.zero(F), a31 = FloatVector.zero(F);
        for (int c = 0; c < upper; c += 2 * L) {
            long o = 2L * c;
            IntVector p0 = IntVector.fromMemorySegment(I, w, r0 + o, LE);
            IntVector p1 = IntVector.fromMemorySegment(I, w, r1 + o, LE);
            IntVector p2 = IntVector.fromMemorySegment(I, w, r2 + o, LE);
            IntVector p3 = IntVector.fromMemorySegment(I, w, r3 + o, LE);
            FloatVector e0 = p0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector d0 = p0.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector e1 = p1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector d1 = p1.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector e2 = p2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector d2 = p2.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector e3 = p3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector d3 = p3.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector xe = FloatVector.fromArray(F, x, x0 + c);
            FloatVector xo = FloatVector.fromArray(F, x, x0 + c + L);
            a00 = d0.fma(xo, e0.fma(xe, a00));
            a10 = d1.fma(xo, e1.fma(xe, a10));
            a20 = d2.fma(xo, e2.fma(xe, a20));
            a30 = d3.fma(xo, e3.fma(xe, a30));
            xe = FloatVector.fromArray(F, x, x1 + c);
            xo = FloatVector.fromArray(F, x, x1 + c + L);
            a01 = d0.fma(xo, e0.fma(xe, a01));
            a11 = d1.fma(xo, e1.fma(xe, a11));
            a21 = d2.fma(xo, e2.fma(xe, a21));
            a31 = d3.fma(xo, e3.fma(xe, a31));
        }
        y[y0] = a00.reduceLanes(VectorOperators.ADD);
        if (nr > 1) {
            y[y0 + 1] = a10.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 2) {
            y[y0 + 2] = a20.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 3) {
            y[y0 + 3] = a30.reduceLanes(VectorOperators.ADD);
        }
        y[y0 + yStride] = a01.reduceLanes(VectorOperators.ADD);
        if (nr > 1) {
            y[y0 + yStride + 1] = a11.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 2) {
            y[y0 + yStride + 2] = a21.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 3) {
            y[y0 + yStride + 3] = a31.reduceLanes(VectorOperators.ADD);
        }
    }

    /** BF16, four rows × 1 token: see {@link #tileDots}. */
    private static void bf16Rows4Tokens1(MemorySegment w, long r0, long r1, long r2, long r3, int upper,
                                          float[] x, int x0, int cols, float[] y, int y0, int yStride, int nr) {
        FloatVector a00 = FloatVector.zero(F), a10 = FloatVector.zero(F), a20 = FloatVector.zero(F), a30 = FloatVector.zero(F);
        for (int c = 0; c < upper; c += 2 * L) {
            long o = 2L * c;
            IntVector p0 = IntVector.fromMemorySegment(I, w, r0 + o, LE);
            IntVector p1 = IntVector.fromMemorySegment(I, w, r1 + o, LE);
            IntVector p2 = IntVector.fromMemorySegment(I, w, r2 + o, LE);
            IntVector p3 = IntVector.fromMemorySegment(I, w, r3 + o, LE);
            FloatVector e0 = p0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector d0 = p0.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector e1 = p1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector d1 = p1.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector e2 = p2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector d2 = p2.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector e3 = p3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector d3 = p3.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector xe = FloatVector.fromArray(F, x, x0 + c);
            FloatVector xo = FloatVector.fromArray(F, x, x0 + c + L);
            a00 = d0.fma(xo, e0.fma(xe, a00));
            a10 = d1.fma(xo, e1.fma(xe, a10));
            a20 = d2.fma(xo, e2.fma(xe, a20));
            a30 = d3.fma(xo, e3.fma(xe, a30));
        }
        y[y0] = a00.reduceLanes(VectorOperators.ADD);
        if (nr > 1) {
            y[y0 + 1] = a10.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 2) {
            y[y0 + 2] = a20.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 3) {
            y[y0 + 3] = a30.reduceLanes(VectorOperators.ADD);
        }
    }

    /** F32, four rows × 4 tokens: see {@link #tileDots}. */
    private static void f32Rows4Tokens4(MemorySegment w, long r0, long r1, long r2, long r3, int upper,
                                         float[] x, int x0, int cols, float[] y, int y0, int yStride, int nr) {
        int x1 = x0 + cols;
        int x2 = x1 + cols;
        int x3 = x2 + cols;
        FloatVector a00 = FloatVector.zero(F), a10 = FloatVector.zero(F), a20 = FloatVector.zero(F), a30 = FloatVector.zero(F);
        FloatVector a01 = FloatVector.zero(F), a11 = FloatVector.zero(F), a21 = FloatVector.zero(F), a31 = FloatVector.zero(F);
        FloatVector a02 = FloatVector.zero(F), a12 = FloatVector.zero(F), a22 = FloatVector.zero(F), a32 = FloatVector.zero(F);
        FloatVector a03 = FloatVector.zero(F), a13 = FloatVector.zero(F), a23 = FloatVector.zero(F), a33 = FloatVector.zero(F);
        for (int c = 0; c < upper; c += L) {
            long o = 4L * c;
            FloatVector w0 = FloatVector.fromMemorySegment(F, w, r0 + o, LE);
            FloatVector w1 = FloatVector.fromMemorySegment(F, w, r1 + o, LE);
            FloatVector w2 = FloatVector.fromMemorySegment(F, w, r2 + o, LE);
            FloatVector w3 = FloatVector.fromMemorySegment(F, w, r3 + o, LE);
            FloatVector xv = FloatVector.fromArray(F, x, x0 + c);
            a00 = w0.fma(xv, a00);
            a10 = w1.fma(xv, a10);
            a20 = w2.fma(xv, a20);
            a30 = w3.fma(xv, a30);
            xv = FloatVector.fromArray(F, x, x1 + c);
            a01 = w0.fma(xv, a01);
            a11 = w1.fma(xv, a11);
            a21 = w2.fma(xv, a21);
            a31 = w3.fma(xv, a31);
            xv = FloatVector.fromArray(F, x, x2 + c);
            a02 = w0.fma(xv, a02);
            a12 = w1.fma(xv, a12);
            a22 = w2.fma(xv, a22);
            a32 = w3.fma(xv, a32);
            xv = FloatVector.fromArray(F, x, x3 + c);
            a03 = w0.fma(xv, a03);
            a13 = w1.fma(xv, a13);
            a23 = w2.fma(xv, a23);
            a33 = w3.fma(xv, a33);
        }
        y[y0] = a00.reduceLanes(VectorOperators.ADD);
        if (nr > 1) {
            y[y0 + 1] = a10.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 2) {
            y[y0 + 2] = a20.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 3) {
            y[y0 + 3] = a30.reduceLanes(VectorOperators.ADD);
        }
        y[y0 + yStride] = a01.reduceLanes(VectorOperators.ADD);
        if (nr > 1) {
            y[y0 + yStride + 1] = a11.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 2) {
            y[y0 + yStride + 2] = a21.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 3) {
            y[y0 + yStride + 3] = a31.reduceLanes(VectorOperators.ADD);
        }
        y[y0 + 2 * yStride] = a02.reduceLanes(VectorOperators.ADD);
        if (nr > 1) {
            y[y0 + 2 * yStride + 1] = a12.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 2) {
            y[y0 + 2 * yStride + 2] = a22.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 3) {
            y[y0 + 2 * yStride + 3] = a32.reduceLanes(VectorOperators.ADD);
        }
        y[y0 + 3 * yStride] = a03.reduceLanes(VectorOperators.ADD);
        if (nr > 1) {
            y[y0 + 3 * yStride + 1] = a13.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 2) {
            y[y0 + 3 * yStride + 2] = a23.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 3) {
            y[y0 + 3 * yStride + 3] = a33.reduceLanes(VectorOperators.ADD);
        }
    }

    /** F32, four rows × 3 tokens: see {@link #tileDots}. */
    private static void f32Rows4Tokens3(MemorySegment w, long r0, long r1, long r2, long r3, int upper,
                                         float[] x, int x0, int cols, float[] y, int y0, int yStride, int nr) {
        int x1 = x0 + cols;
        int x2 = x1 + cols;
        FloatVector a00 = FloatVector.zero(F), a10 = FloatVector.zero(F), a20 = FloatVector.zero(F), a30 = FloatVector.zero(F);
        FloatVector a01 = FloatVector.zero(F), a11 = FloatVector.zero(F), a21 = FloatVector.zero(F), a31 = FloatVector.zero(F);
        FloatVector a02 = FloatVector.zero(F), a12 = FloatVector.zero(F), a22 = FloatVector.zero(F), a32 = FloatVector.zero(F);
        for (int c = 0; c < upper; c += L) {
            long o = 4L * c;
            FloatVector w0 = FloatVector.fromMemorySegment(F, w, r0 + o, LE);
            FloatVector w1 = FloatVector.fromMemorySegment(F, w, r1 + o, LE);
            FloatVector w2 = FloatVector.fromMemorySegment(F, w, r2 + o, LE);
            FloatVector w3 = FloatVector.fromMemorySegment(F, w, r3 + o, LE);
            FloatVector xv = FloatVector.fromArray(F, x, x0 + c);
            a00 = w0.fma(xv, a00);
            a10 = w1.fma(xv, a10);
            a20 = w2.fma(xv, a20);
            a30 = w3.fma(xv, a30);
            xv = FloatVector.fromArray(F, x, x1 + c);
            a01 = w0.fma(xv, a01);
            a11 = w1.fma(xv, a11);
            a21 = w2.fma(xv, a21);
            a31 = w3.fma(xv, a31);
            xv = FloatVector.fromArray(F, x, x2 + c);
            a02 = w0.fma(xv, a02);
            a12 = w1.fma(xv, a12);
            a22 = w2.fma(xv, a22);
            a32 = w3.fma(xv, a32);
        }
        y[y0] = a00.reduceLanes(VectorOperators.ADD);
        if (nr > 1) {
            y[y0 + 1] = a10.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 2) {
            y[y0 + 2] = a20.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 3) {
            y[y0 + 3] = a30.reduceLanes(VectorOperators.ADD);
        }
        y[y0 + yStride] = a01.reduceLanes(VectorOperators.ADD);
        if (nr > 1) {
            y[y0 + yStride + 1] = a11.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 2) {
            y[y0 + yStride + 2] = a21.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 3) {
            y[y0 + yStride + 3] = a31.reduceLanes(VectorOperators.ADD);
        }
        y[y0 + 2 * yStride] = a02.reduceLanes(VectorOperators.ADD);
        if (nr > 1) {
            y[y0 + 2 * yStride + 1] = a12.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 2) {
            y[y0 + 2 * yStride + 2] = a22.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 3) {
            y[y0 + 2 * yStride + 3] = a32.reduceLanes(VectorOperators.ADD);
        }
    }

    /** F32, four rows × 2 tokens: see {@link #tileDots}. */
    private static void f32Rows4Tokens2(MemorySegment w, long r0, long r1, long r2, long r3, int upper,
                                         float[] x, int x0, int cols, float[] y, int y0, int yStride, int nr) {
        int x1 = x0 + cols;
        FloatVector a00 = FloatVector.zero(F), a10 = FloatVector.zero(F), a20 = FloatVector.zero(F), a30 = FloatVector.zero(F);
        FloatVector a01 = FloatVector.zero(F), a11 = FloatVector.zero(F), a21 = FloatVector.zero(F), a31 = FloatVector.zero(F);
        for (int c = 0; c < upper; c += L) {
            long o = 4L * c;
            FloatVector w0 = FloatVector.fromMemorySegment(F, w, r0 + o, LE);
            FloatVector w1 = FloatVector.fromMemorySegment(F, w, r1 + o, LE);
            FloatVector w2 = FloatVector.fromMemorySegment(F, w, r2 + o, LE);
            FloatVector w3 = FloatVector.fromMemorySegment(F, w, r3 + o, LE);
            FloatVector xv = FloatVector.fromArray(F, x, x0 + c);
            a00 = w0.fma(xv, a00);
            a10 = w1.fma(xv, a10);
            a20 = w2.fma(xv, a20);
            a30 = w3.fma(xv, a30);
            xv = FloatVector.fromArray(F, x, x1 + c);
            a01 = w0.fma(xv, a01);
            a11 = w1.fma(xv, a11);
            a21 = w2.fma(xv, a21);
            a31 = w3.fma(xv, a31);
        }
        y[y0] = a00.reduceLanes(VectorOperators.ADD);
        if (nr > 1) {
            y[y0 + 1] = a10.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 2) {
            y[y0 + 2] = a20.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 3) {
            y[y0 + 3] = a30.reduceLanes(VectorOperators.ADD);
        }
        y[y0 + yStride] = a01.reduceLanes(VectorOperators.ADD);
        if (nr > 1) {
            y[y0 + yStride + 1] = a11.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 2) {
            y[y0 + yStride + 2] = a21.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 3) {
            y[y0 + yStride + 3] = a31.reduceLanes(VectorOperators.ADD);
        }
    }

    /** F32, four rows × 1 token: see {@link #tileDots}. */
    private static void f32Rows4Tokens1(MemorySegment w, long r0, long r1, long r2, long r3, int upper,
                                         float[] x, int x0, int cols, float[] y, int y0, int yStride, int nr) {
        FloatVector a00 = FloatVector.zero(F), a10 = FloatVector.zero(F), a20 = FloatVector.zero(F), a30 = FloatVector.zero(F);
        for (int c = 0; c < upper; c += L) {
            long o = 4L * c;
            FloatVector w0 = FloatVector.fromMemorySegment(F, w, r0 + o, LE);
            FloatVector w1 = FloatVector.fromMemorySegment(F, w, r1 + o, LE);
            FloatVector w2 = FloatVector.fromMemorySegment(F, w, r2 + o, LE);
            FloatVector w3 = FloatVector.fromMemorySegment(F, w, r3 + o, LE);
            FloatVector xv = FloatVector.fromArray(F, x, x0 + c);
            a00 = w0.fma(xv, a00);
            a10 = w1.fma(xv, a10);
            a20 = w2.fma(xv, a20);
            a30 = w3.fma(xv, a30);
        }
        y[y0] = a00.reduceLanes(VectorOperators.ADD);
        if (nr > 1) {
            y[y0 + 1] = a10.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 2) {
            y[y0 + 2] = a20.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 3) {
            y[y0 + 3] = a30.reduceLanes(VectorOperators.ADD);
        }
    }

    /**
     * Four rows (fewer: the first repeated, never stored), two tokens at a time, then one; every whole group of
     * {@link WeightMatrix#Q8_GROUP} columns is an int8·float sum in one accumulator, added times the group's scale
     * into the output's one accumulator, in the same order in every tile shape; a last partial group goes to the
     * scalar code.
     */
    @Override
    public void tileDotsQ8(MemorySegment q, long qOff, float[] scales, int sOff, int groups, int nr, int cols,
                           float[] x, int xOff, int tokens, float[] y, int yStride, int yIndex) {
        int full = cols / WeightMatrix.Q8_GROUP;
        if (B == null) {
            ScalarKernels.tileDotsQ8Scalar(q, qOff, scales, sOff, groups, nr, cols, x, xOff, tokens, y, yStride, yIndex, 0);
            return;
        }
        if (tokens == 1) {   // row after row, one read stream: see tileDots
            for (int i = 0; i < nr; i++) {
                y[yIndex + i] = q8Row(q, qOff + (long) i * cols, scales, sOff + i * groups, full, x, xOff);
            }
            if (full * WeightMatrix.Q8_GROUP < cols) {
                ScalarKernels.tileDotsQ8Scalar(q, qOff, scales, sOff, groups, nr, cols, x, xOff, 1, y, yStride, yIndex, full);
            }
            return;
        }
        long r0 = qOff, r1 = nr > 1 ? qOff + cols : qOff, r2 = nr > 2 ? qOff + 2L * cols : qOff, r3 = nr > 3 ? qOff + 3L * cols : qOff;
        int s0 = sOff, s1 = nr > 1 ? sOff + groups : sOff, s2 = nr > 2 ? sOff + 2 * groups : sOff, s3 = nr > 3 ? sOff + 3 * groups : sOff;
        int t = 0;
        for (; t + 2 <= tokens; t += 2) {
            q8Rows4Tokens2(q, r0, r1, r2, r3, scales, s0, s1, s2, s3, full, x, xOff + t * cols, cols, y, yIndex + t * yStride, yStride, nr);
        }
        if (t < tokens) {
            q8Rows4Tokens1(q, r0, r1, r2, r3, scales, s0, s1, s2, s3, full, x, xOff + t * cols, cols, y, yIndex + t * yStride, yStride, nr);
        }
        if (full * WeightMatrix.Q8_GROUP < cols) {
            ScalarKernels.tileDotsQ8Scalar(q, qOff, scales, sOff, groups, nr, cols, x, xOff, tokens, y, yStride, yIndex, full);
        }
    }

    /** int8, four rows × 2 tokens over the whole groups: see {@link #tileDotsQ8}. */
    private static void q8Rows4Tokens2(MemorySegment q, long r0, long r1, long r2, long r3, float[] scales,
                                        int s0, int s1, int s2, int s3, int full, float[] x, int x0, int cols,
                                        float[] y, int y0, int yStride, int nr) {
        int x1 = x0 + cols;
        FloatVector a00 = FloatVector.zero(F), a10 = FloatVector.zero(F), a20 = FloatVector.zero(F), a30 = FloatVector.zero(F);
        FloatVector a01 = FloatVector.zero(F), a11 = FloatVector.zero(F), a21 = FloatVector.zero(F), a31 = FloatVector.zero(F);
        for (int g = 0; g < full; g++) {
            int c0 = g * WeightMatrix.Q8_GROUP;
            FloatVector s00 = FloatVector.zero(F), s10 = FloatVector.zero(F), s20 = FloatVector.zero(F), s30 = FloatVector.zero(F);
            FloatVector s01 = FloatVector.zero(F), s11 = FloatVector.zero(F), s21 = FloatVector.zero(F), s31 = FloatVector.zero(F);
            for (int j = c0; j < c0 + WeightMatrix.Q8_GROUP; j += L) {
                FloatVector w0 = (FloatVector) ByteVector.fromMemorySegment(B, q, r0 + j, LE).convertShape(VectorOperators.B2F, F, 0);
                FloatVector w1 = (FloatVector) ByteVector.fromMemorySegment(B, q, r1 + j, LE).convertShape(VectorOperators.B2F, F, 0);
                FloatVector w2 = (FloatVector) ByteVector.fromMemorySegment(B, q, r2 + j, LE).convertShape(VectorOperators.B2F, F, 0);
                FloatVector w3 = (FloatVector) ByteVector.fromMemorySegment(B, q, r3 + j, LE).convertShape(VectorOperators.B2F, F, 0);
                FloatVector xv = FloatVector.fromArray(F, x, x0 + j);
                s00 = w0.fma(xv, s00);
                s10 = w1.fma(xv, s10);
                s20 = w2.fma(xv, s20);
                s30 = w3.fma(xv, s30);
                xv = FloatVector.fromArray(F, x, x1 + j);
                s01 = w0.fma(xv, s01);
                s11 = w1.fma(xv, s11);
                s21 = w2.fma(xv, s21);
                s31 = w3.fma(xv, s31);
            }
            FloatVector k0 = FloatVector.broadcast(F, scales[s0 + g]);
            FloatVector k1 = FloatVector.broadcast(F, scales[s1 + g]);
            FloatVector k2 = FloatVector.broadcast(F, scales[s2 + g]);
            FloatVector k3 = FloatVector.broadcast(F, scales[s3 + g]);
            a00 = s00.fma(k0, a00);
            a10 = s10.fma(k1, a10);
            a20 = s20.fma(k2, a20);
            a30 = s30.fma(k3, a30);
            a01 = s01.fma(k0, a01);
            a11 = s11.fma(k1, a11);
            a21 = s21.fma(k2, a21);
            a31 = s31.fma(k3, a31);
        }
        y[y0] = a00.reduceLanes(VectorOperators.ADD);
        if (nr > 1) {
            y[y0 + 1] = a10.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 2) {
            y[y0 + 2] = a20.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 3) {
            y[y0 + 3] = a30.reduceLanes(VectorOperators.ADD);
        }
        y[y0 + yStride] = a01.reduceLanes(VectorOperators.ADD);
        if (nr > 1) {
            y[y0 + yStride + 1] = a11.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 2) {
            y[y0 + yStride + 2] = a21.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 3) {
            y[y0 + yStride + 3] = a31.reduceLanes(VectorOperators.ADD);
        }
    }

    /** int8, one row × 1 token over the whole groups: see {@link #tileDotsQ8}. */
    private static float q8Row(MemorySegment q, long r0, float[] scales, int s0, int full, float[] x, int x0) {
        FloatVector a00 = FloatVector.zero(F);
        for (int g = 0; g < full; g++) {
            int c0 = g * WeightMatrix.Q8_GROUP;
            FloatVector s00 = FloatVector.zero(F);
            for (int j = c0; j < c0 + WeightMatrix.Q8_GROUP; j += L) {
                FloatVector w0 = (FloatVector) ByteVector.fromMemorySegment(B, q, r0 + j, LE).convertShape(VectorOperators.B2F, F, 0);
                s00 = w0.fma(FloatVector.fromArray(F, x, x0 + j), s00);
            }
            a00 = s00.fma(FloatVector.broadcast(F, scales[s0 + g]), a00);
        }
        return a00.reduceLanes(VectorOperators.ADD);
    }

    /** int8, four rows × 1 token over the whole groups: see {@link #tileDotsQ8}. */
    private static void q8Rows4Tokens1(MemorySegment q, long r0, long r1, long r2, long r3, float[] scales,
                                        int s0, int s1, int s2, int s3, int full, float[] x, int x0, int cols,
                                        float[] y, int y0, int yStride, int nr) {
        FloatVector a00 = FloatVector.zero(F), a10 = FloatVector.zero(F), a20 = FloatVector.zero(F), a30 = FloatVector.zero(F);
        for (int g = 0; g < full; g++) {
            int c0 = g * WeightMatrix.Q8_GROUP;
            FloatVector s00 = FloatVector.zero(F), s10 = FloatVector.zero(F), s20 = FloatVector.zero(F), s30 = FloatVector.zero(F);
            for (int j = c0; j < c0 + WeightMatrix.Q8_GROUP; j += L) {
                FloatVector w0 = (FloatVector) ByteVector.fromMemorySegment(B, q, r0 + j, LE).convertShape(VectorOperators.B2F, F, 0);
                FloatVector w1 = (FloatVector) ByteVector.fromMemorySegment(B, q, r1 + j, LE).convertShape(VectorOperators.B2F, F, 0);
                FloatVector w2 = (FloatVector) ByteVector.fromMemorySegment(B, q, r2 + j, LE).convertShape(VectorOperators.B2F, F, 0);
                FloatVector w3 = (FloatVector) ByteVector.fromMemorySegment(B, q, r3 + j, LE).convertShape(VectorOperators.B2F, F, 0);
                FloatVector xv = FloatVector.fromArray(F, x, x0 + j);
                s00 = w0.fma(xv, s00);
                s10 = w1.fma(xv, s10);
                s20 = w2.fma(xv, s20);
                s30 = w3.fma(xv, s30);
            }
            FloatVector k0 = FloatVector.broadcast(F, scales[s0 + g]);
            FloatVector k1 = FloatVector.broadcast(F, scales[s1 + g]);
            FloatVector k2 = FloatVector.broadcast(F, scales[s2 + g]);
            FloatVector k3 = FloatVector.broadcast(F, scales[s3 + g]);
            a00 = s00.fma(k0, a00);
            a10 = s10.fma(k1, a10);
            a20 = s20.fma(k2, a20);
            a30 = s30.fma(k3, a30);
        }
        y[y0] = a00.reduceLanes(VectorOperators.ADD);
        if (nr > 1) {
            y[y0 + 1] = a10.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 2) {
            y[y0 + 2] = a20.reduceLanes(VectorOperators.ADD);
        }
        if (nr > 3) {
            y[y0 + 3] = a30.reduceLanes(VectorOperators.ADD);
        }
    }

    @Override
    public boolean arranges(DType dtype) {
        return dtype == DType.BF16;
    }

    @Override
    public void arrange(DType dtype, float[] x, int off, int n, float[] out, int outOff) {
        int run = 2 * L, c = 0;
        if (!arranges(dtype)) {
            System.arraycopy(x, off, out, outOff, n);
            return;
        }
        for (; c + run <= n; c += run) {
            for (int j = 0; j < L; j++) {
                out[outOff + c + j] = x[off + c + 2 * j];
                out[outOff + c + L + j] = x[off + c + 2 * j + 1];
            }
        }
        System.arraycopy(x, off + c, out, outOff + c, n - c);
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int upper = F.loopBound(n);
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i < upper; i += L) {
            acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            s += a[aOff + i] * b[bOff + i];
        }
        return s;
    }

    @Override
    public void scanStep(float[] s, int sOff, int states, int channels, float decay, float dt, float d,
                         float[] x, int xOff, float[] bc, int bOff, int cOff, float[] y, int yOff) {
        int upper = F.loopBound(channels), p = 0;
        // a vector of channels at a time: x and the running y stay in registers across the N states
        for (; p < upper; p += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xOff + p);
            FloatVector yv = xv.mul(d);
            for (int n = 0; n < states; n++) {
                int o = sOff + n * channels + p;
                FloatVector v = FloatVector.fromArray(F, s, o).mul(decay).add(xv.mul(dt * bc[bOff + n]));
                v.intoArray(s, o);
                yv = v.fma(FloatVector.broadcast(F, bc[cOff + n]), yv);
            }
            yv.intoArray(y, yOff + p);
        }
        ScalarKernels.scanStepScalar(s, sOff, states, channels, decay, dt, d, x, xOff, bc, bOff, cOff, y, yOff, p);
    }

    @Override
    public void mulAdd(float[] a, int aOff, float[] b, int bOff, float[] y, int yOff, int n) {
        int upper = F.loopBound(n), i = 0;
        for (; i < upper; i += L) {
            FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), FloatVector.fromArray(F, y, yOff + i))
                    .intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] += a[aOff + i] * b[bOff + i];
        }
    }

    /** exp through the Vector API's math (SVML on x86), within an ulp or two of {@link Math#exp}. */
    @Override
    public void softmax(float[] x, int off, int n) {
        int upper = F.loopBound(n), i = 0;
        FloatVector mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (; i < upper; i += L) {
            mv = mv.max(FloatVector.fromArray(F, x, off + i));
        }
        float max = mv.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        FloatVector sv = FloatVector.zero(F);
        for (i = 0; i < upper; i += L) {
            FloatVector e = FloatVector.fromArray(F, x, off + i).sub(max).lanewise(VectorOperators.EXP);
            e.intoArray(x, off + i);
            sv = sv.add(e);
        }
        float sum = sv.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            x[off + i] = (float) Math.exp(x[off + i] - max);
            sum += x[off + i];
        }
        float inv = 1f / sum;
        for (i = 0; i < upper; i += L) {
            FloatVector.fromArray(F, x, off + i).mul(inv).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] *= inv;
        }
    }

    /** Up to four vectors of outputs at a time stay in registers while the rows stream past. */
    @Override
    public void combineRows(float[] a, int aOff, int stride, int rows, float[] c, int cOff, float[] y, int yOff, int n) {
        int i = 0;
        for (; i + 4 * L <= n; i += 4 * L) {
            combineFour(a, aOff + i, stride, rows, c, cOff, y, yOff + i);
        }
        for (; i + L <= n; i += L) {
            FloatVector acc = FloatVector.zero(F);
            for (int r = 0; r < rows; r++) {
                acc = FloatVector.fromArray(F, a, aOff + r * stride + i).fma(FloatVector.broadcast(F, c[cOff + r]), acc);
            }
            acc.intoArray(y, yOff + i);
        }
        ScalarKernels.combineRowsScalar(a, aOff, stride, rows, c, cOff, y, yOff, n, i);
    }

    private static void combineFour(float[] a, int aOff, int stride, int rows, float[] c, int cOff, float[] y, int yOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        for (int r = 0; r < rows; r++) {
            FloatVector cr = FloatVector.broadcast(F, c[cOff + r]);
            int o = aOff + r * stride;
            a0 = FloatVector.fromArray(F, a, o).fma(cr, a0);
            a1 = FloatVector.fromArray(F, a, o + L).fma(cr, a1);
            a2 = FloatVector.fromArray(F, a, o + 2 * L).fma(cr, a2);
            a3 = FloatVector.fromArray(F, a, o + 3 * L).fma(cr, a3);
        }
        a0.intoArray(y, yOff);
        a1.intoArray(y, yOff + L);
        a2.intoArray(y, yOff + 2 * L);
        a3.intoArray(y, yOff + 3 * L);
    }

    @Override
    public void silu(float[] x, int off, int n) {
        int upper = F.loopBound(n), i = 0;
        for (; i < upper; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, off + i);
            v.div(v.neg().lanewise(VectorOperators.EXP).add(1f)).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] = Engine.silu(x[off + i]);
        }
    }
}
