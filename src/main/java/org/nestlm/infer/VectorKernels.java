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
 * (docs/CHANGELOG.md, "Decode kernels"). F16 uses the scalar path (rare in checkpoints). The
 * matrix-times-tokens kernel dots one weight vector with two activation rows at once (a batch of sequences or a
 * prompt reads and widens every weight once per two tokens from cache, once per product from memory), with each
 * token's sum formed exactly as the one-token kernel forms it.
 *
 * <p>Every vector loop is a small method of its own: C2 inlines the Vector API's many tiny calls only up to a
 * node budget per compilation unit, and an operation left as a call allocates a vector object per use (the first
 * version of the BF16 kernel, one large method, made {@code bench decode} 2.5x slower for that reason).
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
     * Two tokens at a time while two remain, then one; columns past the last whole vector step (BF16: a run of
     * 2L) go to the scalar tail. The two-token kernels keep each token's sum in the same accumulators, in the same
     * order, as the one-token ones, so a token's result does not depend on how many tokens share the product:
     * a sequence decoded alone and inside a batch (or its prompt fed at once) gets bit-identical projections.
     */
    @Override
    public void rowDots(MemorySegment w, DType dtype, long rowOffset, int cols, float[] x, int xOff, int tokens,
                        float[] y, int yStride, int yIndex) {
        if (dtype != DType.BF16 && dtype != DType.F32) {
            ScalarKernels.rowDotsScalar(w, dtype, rowOffset, cols, x, xOff, tokens, y, yStride, yIndex, 0);
            return;
        }
        boolean bf16 = dtype == DType.BF16;
        int upper = bf16 ? cols - cols % (2 * L) : F.loopBound(cols);
        int t = 0;
        for (; t + 2 <= tokens; t += 2) {
            int x0 = xOff + t * cols, yi = t * yStride + yIndex;
            if (bf16) {
                dotsBf16TwoTokens(w, rowOffset, upper, x, x0, x0 + cols, y, yi, yi + yStride);
            } else {
                dotsF32TwoTokens(w, rowOffset, upper, x, x0, x0 + cols, y, yi, yi + yStride);
            }
            if (upper < cols) {
                ScalarKernels.rowDotsScalar(w, dtype, rowOffset, cols, x, x0, 2, y, yStride, yi, upper);
            }
        }
        for (; t < tokens; t++) {
            int x0 = xOff + t * cols, yi = t * yStride + yIndex;
            y[yi] = bf16 ? dotBf16(w, rowOffset, upper, x, x0) : dotF32(w, rowOffset, upper, x, x0);
            if (upper < cols) {
                ScalarKernels.rowDotsScalar(w, dtype, rowOffset, cols, x, x0, 1, y, yStride, yi, upper);
            }
        }
    }

    /** BF16 rows in pairs, two tokens at a time; a last single token goes row by row. */
    @Override
    public void rowPairDots(MemorySegment w, DType dtype, long row0, long row1, int cols, float[] x, int xOff, int tokens,
                            float[] y, int yStride, int yIndex) {
        if (dtype != DType.BF16 || tokens < 2) {
            Kernels.super.rowPairDots(w, dtype, row0, row1, cols, x, xOff, tokens, y, yStride, yIndex);
            return;
        }
        int upper = cols - cols % (2 * L);
        int t = 0;
        for (; t + 2 <= tokens; t += 2) {
            int x0 = xOff + t * cols, yi = t * yStride + yIndex;
            dotsBf16TwoRowsTwoTokens(w, row0, row1, upper, x, x0, x0 + cols, y, yi, yi + yStride);
            if (upper < cols) {
                ScalarKernels.rowDotsScalar(w, dtype, row0, cols, x, x0, 2, y, yStride, yi, upper);
                ScalarKernels.rowDotsScalar(w, dtype, row1, cols, x, x0, 2, y, yStride, yi + 1, upper);
            }
        }
        if (t < tokens) {
            int x0 = xOff + t * cols, yi = t * yStride + yIndex;
            rowDots(w, dtype, row0, cols, x, x0, 1, y, yStride, yi);
            rowDots(w, dtype, row1, cols, x, x0, 1, y, yStride, yi + 1);
        }
    }

    /**
     * BF16, two rows × two tokens: every activation vector serves both rows and every widened weight vector both
     * tokens; each (row, token) has the four accumulators of {@link #dotBf16}, fed in its order. A run at a time
     * (not two, as the one-row kernels do) keeps the sixteen accumulators and the operands in registers: the
     * accumulator a run feeds alternates, so every chain sees the same operations.
     */
    private static void dotsBf16TwoRowsTwoTokens(MemorySegment w, long r0, long r1, int upper, float[] x, int x0, int x1,
                                                 float[] y, int y0, int y1) {
        int run = 2 * L;
        // a: row 0 token 0, b: row 0 token 1, c: row 1 token 0, d: row 1 token 1; 0/1 even/odd of the first run
        // of a pair, 2/3 of the second
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), c2 = FloatVector.zero(F), c3 = FloatVector.zero(F);
        FloatVector d0 = FloatVector.zero(F), d1 = FloatVector.zero(F), d2 = FloatVector.zero(F), d3 = FloatVector.zero(F);
        int c = 0;
        for (; c + 2 * run <= upper; c += 2 * run) {
            IntVector p = IntVector.fromMemorySegment(I, w, r0 + 2L * c, LE);
            IntVector q = IntVector.fromMemorySegment(I, w, r1 + 2L * c, LE);
            FloatVector pe = evenColumns(p), po = oddColumns(p), qe = evenColumns(q), qo = oddColumns(q);
            FloatVector xe = FloatVector.fromArray(F, x, x0 + c), xo = FloatVector.fromArray(F, x, x0 + c + L);
            FloatVector ze = FloatVector.fromArray(F, x, x1 + c), zo = FloatVector.fromArray(F, x, x1 + c + L);
            a0 = pe.fma(xe, a0);
            a1 = po.fma(xo, a1);
            b0 = pe.fma(ze, b0);
            b1 = po.fma(zo, b1);
            c0 = qe.fma(xe, c0);
            c1 = qo.fma(xo, c1);
            d0 = qe.fma(ze, d0);
            d1 = qo.fma(zo, d1);
            p = IntVector.fromMemorySegment(I, w, r0 + 2L * (c + run), LE);
            q = IntVector.fromMemorySegment(I, w, r1 + 2L * (c + run), LE);
            pe = evenColumns(p);
            po = oddColumns(p);
            qe = evenColumns(q);
            qo = oddColumns(q);
            xe = FloatVector.fromArray(F, x, x0 + c + run);
            xo = FloatVector.fromArray(F, x, x0 + c + run + L);
            ze = FloatVector.fromArray(F, x, x1 + c + run);
            zo = FloatVector.fromArray(F, x, x1 + c + run + L);
            a2 = pe.fma(xe, a2);
            a3 = po.fma(xo, a3);
            b2 = pe.fma(ze, b2);
            b3 = po.fma(zo, b3);
            c2 = qe.fma(xe, c2);
            c3 = qo.fma(xo, c3);
            d2 = qe.fma(ze, d2);
            d3 = qo.fma(zo, d3);
        }
        if (c < upper) {
            IntVector p = IntVector.fromMemorySegment(I, w, r0 + 2L * c, LE);
            IntVector q = IntVector.fromMemorySegment(I, w, r1 + 2L * c, LE);
            FloatVector pe = evenColumns(p), po = oddColumns(p), qe = evenColumns(q), qo = oddColumns(q);
            FloatVector xe = FloatVector.fromArray(F, x, x0 + c), xo = FloatVector.fromArray(F, x, x0 + c + L);
            FloatVector ze = FloatVector.fromArray(F, x, x1 + c), zo = FloatVector.fromArray(F, x, x1 + c + L);
            a0 = pe.fma(xe, a0);
            a1 = po.fma(xo, a1);
            b0 = pe.fma(ze, b0);
            b1 = po.fma(zo, b1);
            c0 = qe.fma(xe, c0);
            c1 = qo.fma(xo, c1);
            d0 = qe.fma(ze, d0);
            d1 = qo.fma(zo, d1);
        }
        y[y0] = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        y[y1] = b0.add(b1).add(b2.add(b3)).reduceLanes(VectorOperators.ADD);
        y[y0 + 1] = c0.add(c1).add(c2.add(c3)).reduceLanes(VectorOperators.ADD);
        y[y1 + 1] = d0.add(d1).add(d2.add(d3)).reduceLanes(VectorOperators.ADD);
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

    private static FloatVector evenColumns(IntVector pairs) {
        return pairs.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static FloatVector oddColumns(IntVector pairs) {
        return pairs.and(0xFFFF0000).reinterpretAsFloats();
    }

    /**
     * BF16, one token (decode), against arranged activations (see the class comment): Σ over the first
     * {@code upper} columns; two runs per step into four accumulators.
     */
    private static float dotBf16(MemorySegment w, long rowOffset, int upper, float[] x, int x0) {
        int run = 2 * L;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        int c = 0;
        for (; c + 2 * run <= upper; c += 2 * run) {
            IntVector p0 = IntVector.fromMemorySegment(I, w, rowOffset + 2L * c, LE);
            IntVector p1 = IntVector.fromMemorySegment(I, w, rowOffset + 2L * (c + run), LE);
            a0 = evenColumns(p0).fma(FloatVector.fromArray(F, x, x0 + c), a0);
            a1 = oddColumns(p0).fma(FloatVector.fromArray(F, x, x0 + c + L), a1);
            a2 = evenColumns(p1).fma(FloatVector.fromArray(F, x, x0 + c + run), a2);
            a3 = oddColumns(p1).fma(FloatVector.fromArray(F, x, x0 + c + run + L), a3);
        }
        if (c < upper) {
            IntVector p0 = IntVector.fromMemorySegment(I, w, rowOffset + 2L * c, LE);
            a0 = evenColumns(p0).fma(FloatVector.fromArray(F, x, x0 + c), a0);
            a1 = oddColumns(p0).fma(FloatVector.fromArray(F, x, x0 + c + L), a1);
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }

    /**
     * BF16, two tokens (activation rows x0 and x1): each weight run is loaded and widened once for both; each
     * token's four accumulators see exactly the operations of {@link #dotBf16}.
     */
    private static void dotsBf16TwoTokens(MemorySegment w, long rowOffset, int upper, float[] x, int x0, int x1,
                                          float[] y, int y0, int y1) {
        int run = 2 * L;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        int c = 0;
        for (; c + 2 * run <= upper; c += 2 * run) {
            IntVector p0 = IntVector.fromMemorySegment(I, w, rowOffset + 2L * c, LE);
            IntVector p1 = IntVector.fromMemorySegment(I, w, rowOffset + 2L * (c + run), LE);
            FloatVector e0 = evenColumns(p0), o0 = oddColumns(p0), e1 = evenColumns(p1), o1 = oddColumns(p1);
            a0 = e0.fma(FloatVector.fromArray(F, x, x0 + c), a0);
            a1 = o0.fma(FloatVector.fromArray(F, x, x0 + c + L), a1);
            a2 = e1.fma(FloatVector.fromArray(F, x, x0 + c + run), a2);
            a3 = o1.fma(FloatVector.fromArray(F, x, x0 + c + run + L), a3);
            b0 = e0.fma(FloatVector.fromArray(F, x, x1 + c), b0);
            b1 = o0.fma(FloatVector.fromArray(F, x, x1 + c + L), b1);
            b2 = e1.fma(FloatVector.fromArray(F, x, x1 + c + run), b2);
            b3 = o1.fma(FloatVector.fromArray(F, x, x1 + c + run + L), b3);
        }
        if (c < upper) {
            IntVector p0 = IntVector.fromMemorySegment(I, w, rowOffset + 2L * c, LE);
            FloatVector e0 = evenColumns(p0), o0 = oddColumns(p0);
            a0 = e0.fma(FloatVector.fromArray(F, x, x0 + c), a0);
            a1 = o0.fma(FloatVector.fromArray(F, x, x0 + c + L), a1);
            b0 = e0.fma(FloatVector.fromArray(F, x, x1 + c), b0);
            b1 = o0.fma(FloatVector.fromArray(F, x, x1 + c + L), b1);
        }
        y[y0] = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        y[y1] = b0.add(b1).add(b2.add(b3)).reduceLanes(VectorOperators.ADD);
    }

    /** F32, one token: four independent accumulators hide the FMA latency. */
    private static float dotF32(MemorySegment w, long rowOffset, int upper, float[] x, int x0) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        int c = 0;
        for (; c + 4 * L <= upper; c += 4 * L) {
            a0 = FloatVector.fromMemorySegment(F, w, rowOffset + 4L * c, LE).fma(FloatVector.fromArray(F, x, x0 + c), a0);
            a1 = FloatVector.fromMemorySegment(F, w, rowOffset + 4L * (c + L), LE).fma(FloatVector.fromArray(F, x, x0 + c + L), a1);
            a2 = FloatVector.fromMemorySegment(F, w, rowOffset + 4L * (c + 2 * L), LE).fma(FloatVector.fromArray(F, x, x0 + c + 2 * L), a2);
            a3 = FloatVector.fromMemorySegment(F, w, rowOffset + 4L * (c + 3 * L), LE).fma(FloatVector.fromArray(F, x, x0 + c + 3 * L), a3);
        }
        for (; c < upper; c += L) {
            a0 = FloatVector.fromMemorySegment(F, w, rowOffset + 4L * c, LE).fma(FloatVector.fromArray(F, x, x0 + c), a0);
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }

    /** F32, two tokens: each weight vector is loaded once for both; per token the operations of {@link #dotF32}. */
    private static void dotsF32TwoTokens(MemorySegment w, long rowOffset, int upper, float[] x, int x0, int x1,
                                         float[] y, int y0, int y1) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        int c = 0;
        for (; c + 4 * L <= upper; c += 4 * L) {
            FloatVector w0 = FloatVector.fromMemorySegment(F, w, rowOffset + 4L * c, LE);
            FloatVector w1 = FloatVector.fromMemorySegment(F, w, rowOffset + 4L * (c + L), LE);
            FloatVector w2 = FloatVector.fromMemorySegment(F, w, rowOffset + 4L * (c + 2 * L), LE);
            FloatVector w3 = FloatVector.fromMemorySegment(F, w, rowOffset + 4L * (c + 3 * L), LE);
            a0 = w0.fma(FloatVector.fromArray(F, x, x0 + c), a0);
            a1 = w1.fma(FloatVector.fromArray(F, x, x0 + c + L), a1);
            a2 = w2.fma(FloatVector.fromArray(F, x, x0 + c + 2 * L), a2);
            a3 = w3.fma(FloatVector.fromArray(F, x, x0 + c + 3 * L), a3);
            b0 = w0.fma(FloatVector.fromArray(F, x, x1 + c), b0);
            b1 = w1.fma(FloatVector.fromArray(F, x, x1 + c + L), b1);
            b2 = w2.fma(FloatVector.fromArray(F, x, x1 + c + 2 * L), b2);
            b3 = w3.fma(FloatVector.fromArray(F, x, x1 + c + 3 * L), b3);
        }
        for (; c < upper; c += L) {
            FloatVector w0 = FloatVector.fromMemorySegment(F, w, rowOffset + 4L * c, LE);
            a0 = w0.fma(FloatVector.fromArray(F, x, x0 + c), a0);
            b0 = w0.fma(FloatVector.fromArray(F, x, x1 + c), b0);
        }
        y[y0] = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        y[y1] = b0.add(b1).add(b2.add(b3)).reduceLanes(VectorOperators.ADD);
    }

    @Override
    public float rowDotQ8(MemorySegment q, long rowOffset, float[] scales, int sOff, int cols, float[] x, int xOff) {
        if (B == null) {
            return ScalarKernels.rowDotQ8Scalar(q, rowOffset, scales, sOff, cols, x, xOff, 0);
        }
        int group = WeightMatrix.Q8_GROUP;
        int full = cols / group;
        // two accumulators over alternate groups hide the latency of the scale FMA
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        int g = 0;
        for (; g < full; g++) {
            int c0 = g * group;
            FloatVector s = FloatVector.zero(F);
            for (int j = 0; j < group; j += L) {
                FloatVector wv = (FloatVector) ByteVector.fromMemorySegment(B, q, rowOffset + c0 + j, LE)
                        .convertShape(VectorOperators.B2F, F, 0);
                s = wv.fma(FloatVector.fromArray(F, x, xOff + c0 + j), s);
            }
            FloatVector sc = FloatVector.broadcast(F, scales[sOff + g]);
            if ((g & 1) == 0) {
                a0 = s.fma(sc, a0);
            } else {
                a1 = s.fma(sc, a1);
            }
        }
        float acc = a0.add(a1).reduceLanes(VectorOperators.ADD);
        if (full * group < cols) {
            acc += ScalarKernels.rowDotQ8Scalar(q, rowOffset, scales, sOff, cols, x, xOff, full);
        }
        return acc;
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
