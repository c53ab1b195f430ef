package org.nestlm.infer;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.nestlm.io.DType;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * SIMD kernels on {@code jdk.incubator.vector} with the machine's preferred float width. BF16 weights are
 * widened in registers: load {@code L} shorts (half the float width), sign-extend to ints, shift left by 16
 * and reinterpret as floats (BF16 is the upper half of an F32). F16 uses the scalar path (rare in
 * checkpoints). The matrix-times-tokens kernel dots one weight vector with four activation rows at once, so
 * batched prefill reads and widens every weight once per four tokens.
 */
final class VectorKernels implements Kernels {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final VectorSpecies<Short> S = F.vectorBitSize() >= 128
            ? VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2)) : null;
    /** L bytes (a quarter of the float width), widened to L floats for int8 weights; null when too narrow. */
    private static final VectorSpecies<Byte> B = F.vectorBitSize() >= 256 && WeightMatrix.Q8_GROUP % F.length() == 0
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(F.vectorBitSize() / 4)) : null;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /** Vectors narrower than 4 floats would need a 32-bit short vector, which does not exist. */
    boolean usable() {
        return S != null && L >= 4;
    }

    private static FloatVector weights(MemorySegment w, DType dtype, long rowOffset, int c) {
        if (dtype == DType.F32) {
            return FloatVector.fromMemorySegment(F, w, rowOffset + (long) c * 4, LE);
        }
        ShortVector s = ShortVector.fromMemorySegment(S, w, rowOffset + (long) c * 2, LE);
        return ((IntVector) s.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    @Override
    public void rowDots(MemorySegment w, DType dtype, long rowOffset, int cols, float[] x, int xOff, int tokens,
                        float[] y, int yStride, int yIndex) {
        if (dtype != DType.F32 && dtype != DType.BF16) {
            ScalarKernels.rowDotsScalar(w, dtype, rowOffset, cols, x, xOff, tokens, y, yStride, yIndex, 0);
            return;
        }
        int upper = F.loopBound(cols);
        int t = 0;
        for (; t + 4 <= tokens; t += 4) {
            int x0 = xOff + t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
            for (int c = 0; c < upper; c += L) {
                FloatVector wv = weights(w, dtype, rowOffset, c);
                a0 = wv.fma(FloatVector.fromArray(F, x, x0 + c), a0);
                a1 = wv.fma(FloatVector.fromArray(F, x, x1 + c), a1);
                a2 = wv.fma(FloatVector.fromArray(F, x, x2 + c), a2);
                a3 = wv.fma(FloatVector.fromArray(F, x, x3 + c), a3);
            }
            y[t * yStride + yIndex] = a0.reduceLanes(VectorOperators.ADD);
            y[(t + 1) * yStride + yIndex] = a1.reduceLanes(VectorOperators.ADD);
            y[(t + 2) * yStride + yIndex] = a2.reduceLanes(VectorOperators.ADD);
            y[(t + 3) * yStride + yIndex] = a3.reduceLanes(VectorOperators.ADD);
            if (upper < cols) {
                ScalarKernels.rowDotsScalar(w, dtype, rowOffset, cols, x, x0, 4, y, yStride, t * yStride + yIndex, upper);
            }
        }
        for (; t < tokens; t++) {
            int x0 = xOff + t * cols;
            // One token: four independent accumulators hide the FMA latency (decode is this path).
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
            int c = 0;
            int upper4 = cols - 4 * L;
            for (; c <= upper4; c += 4 * L) {
                a0 = weights(w, dtype, rowOffset, c).fma(FloatVector.fromArray(F, x, x0 + c), a0);
                a1 = weights(w, dtype, rowOffset, c + L).fma(FloatVector.fromArray(F, x, x0 + c + L), a1);
                a2 = weights(w, dtype, rowOffset, c + 2 * L).fma(FloatVector.fromArray(F, x, x0 + c + 2 * L), a2);
                a3 = weights(w, dtype, rowOffset, c + 3 * L).fma(FloatVector.fromArray(F, x, x0 + c + 3 * L), a3);
            }
            for (; c < upper; c += L) {
                a0 = weights(w, dtype, rowOffset, c).fma(FloatVector.fromArray(F, x, x0 + c), a0);
            }
            y[t * yStride + yIndex] = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
            if (upper < cols) {
                ScalarKernels.rowDotsScalar(w, dtype, rowOffset, cols, x, x0, 1, y, yStride, t * yStride + yIndex, upper);
            }
        }
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
    public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        int upper = F.loopBound(n);
        FloatVector av = FloatVector.broadcast(F, alpha);
        int i = 0;
        for (; i < upper; i += L) {
            FloatVector.fromArray(F, x, xOff + i).fma(av, FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] += alpha * x[xOff + i];
        }
    }
}
