package org.nestlm.infer;

import org.nestlm.io.DType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Plain-Java kernels: the reference for {@link VectorKernels} and the fallback without the Vector API. */
final class ScalarKernels implements Kernels {

    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Element {@code index} of a row-major weight, widened to float. */
    static float load(MemorySegment w, DType dtype, long byteOffset) {
        return switch (dtype) {
            case F32 -> w.get(F32, byteOffset);
            case BF16 -> Float.intBitsToFloat(w.get(I16, byteOffset) << 16);
            case F16 -> Float.float16ToFloat(w.get(I16, byteOffset));
            default -> throw new IllegalArgumentException("weights of dtype " + dtype + " are not supported");
        };
    }

    @Override
    public void tileDots(MemorySegment w, DType dtype, long r0, long r1, long r2, long r3, int nr, int cols, float[] x, int xOff,
                         int tokens, float[] y, int yStride, int yIndex) {
        tileDotsScalar(w, dtype, r0, r1, r2, r3, nr, cols, x, xOff, tokens, y, yStride, yIndex, 0);
    }

    /** {@link #rowDotsScalar} for each of the first {@code nr} rows of a tile. */
    static void tileDotsScalar(MemorySegment w, DType dtype, long r0, long r1, long r2, long r3, int nr, int cols, float[] x,
                               int xOff, int tokens, float[] y, int yStride, int yIndex, int fromCol) {
        for (int i = 0; i < nr; i++) {
            long r = i == 0 ? r0 : i == 1 ? r1 : i == 2 ? r2 : r3;
            rowDotsScalar(w, dtype, r, cols, x, xOff, tokens, y, yStride, yIndex + i, fromCol);
        }
    }

    /** The columns from {@code fromCol} on, added to what y already holds when {@code fromCol > 0}. */
    static void rowDotsScalar(MemorySegment w, DType dtype, long rowOffset, int cols, float[] x, int xOff, int tokens,
                              float[] y, int yStride, int yIndex, int fromCol) {
        int size = dtype.byteSize();
        for (int t = 0; t < tokens; t++) {
            int xo = xOff + t * cols;
            float acc = 0f;
            for (int c = fromCol; c < cols; c++) {
                acc += load(w, dtype, rowOffset + (long) c * size) * x[xo + c];
            }
            if (fromCol > 0) {
                y[t * yStride + yIndex] += acc;
            } else {
                y[t * yStride + yIndex] = acc;
            }
        }
    }

    @Override
    public boolean arranges(DType dtype) {
        return false;
    }

    @Override
    public void arrange(DType dtype, float[] x, int off, int n, float[] out, int outOff) {
        System.arraycopy(x, off, out, outOff, n);
    }

    @Override
    public void tileDotsQ8(MemorySegment q, long qOff, float[] scales, int sOff, int groups, int nr, int cols, float[] x,
                           int xOff, int tokens, float[] y, int yStride, int yIndex) {
        tileDotsQ8Scalar(q, qOff, scales, sOff, groups, nr, cols, x, xOff, tokens, y, yStride, yIndex, 0);
    }

    /**
     * {@link #rowDotQ8Scalar} for every row and token of an int8 tile; with {@code fromGroup > 0} the groups from
     * there on are added to what y holds (the SIMD kernel's tail).
     */
    static void tileDotsQ8Scalar(MemorySegment q, long qOff, float[] scales, int sOff, int groups, int nr, int cols,
                                 float[] x, int xOff, int tokens, float[] y, int yStride, int yIndex, int fromGroup) {
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < nr; i++) {
                float v = rowDotQ8Scalar(q, qOff + (long) i * cols, scales, sOff + i * groups, cols, x, xOff + t * cols, fromGroup);
                int at = t * yStride + yIndex + i;
                y[at] = fromGroup > 0 ? y[at] + v : v;
            }
        }
    }

    /** The groups from {@code fromGroup} on: per group an int8·float sum, then times the group's scale. */
    static float rowDotQ8Scalar(MemorySegment q, long rowOffset, float[] scales, int sOff, int cols, float[] x, int xOff,
                                int fromGroup) {
        int g0 = WeightMatrix.Q8_GROUP;
        float acc = 0f;
        for (int c0 = fromGroup * g0, g = fromGroup; c0 < cols; c0 += g0, g++) {
            int c1 = Math.min(cols, c0 + g0);
            float s = 0f;
            for (int c = c0; c < c1; c++) {
                s += q.get(ValueLayout.JAVA_BYTE, rowOffset + c) * x[xOff + c];
            }
            acc += s * scales[sOff + g];
        }
        return acc;
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float acc = 0f;
        for (int i = 0; i < n; i++) {
            acc += a[aOff + i] * b[bOff + i];
        }
        return acc;
    }

    @Override
    public void scanStep(float[] s, int sOff, int states, int channels, float decay, float dt, float d,
                         float[] x, int xOff, float[] bc, int bOff, int cOff, float[] y, int yOff) {
        scanStepScalar(s, sOff, states, channels, decay, dt, d, x, xOff, bc, bOff, cOff, y, yOff, 0);
    }

    /** The channels from {@code fromChannel} on (the SIMD kernel's tail). */
    static void scanStepScalar(float[] s, int sOff, int states, int channels, float decay, float dt, float d,
                               float[] x, int xOff, float[] bc, int bOff, int cOff, float[] y, int yOff, int fromChannel) {
        for (int p = fromChannel; p < channels; p++) {
            y[yOff + p] = d * x[xOff + p];
        }
        for (int n = 0; n < states; n++) {
            float db = dt * bc[bOff + n], cn = bc[cOff + n];
            int o = sOff + n * channels;
            for (int p = fromChannel; p < channels; p++) {
                float v = decay * s[o + p] + db * x[xOff + p];
                s[o + p] = v;
                y[yOff + p] += cn * v;
            }
        }
    }

    @Override
    public void mulAdd(float[] a, int aOff, float[] b, int bOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) {
            y[yOff + i] += a[aOff + i] * b[bOff + i];
        }
    }

    @Override
    public void softmax(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            x[off + i] = (float) Math.exp(x[off + i] - max);
            sum += x[off + i];
        }
        float inv = 1f / sum;
        for (int i = 0; i < n; i++) {
            x[off + i] *= inv;
        }
    }

    @Override
    public void combineRows(float[] a, int aOff, int stride, int rows, float[] c, int cOff, float[] y, int yOff, int n) {
        combineRowsScalar(a, aOff, stride, rows, c, cOff, y, yOff, n, 0);
    }

    /** The outputs from {@code from} on (the SIMD kernel's tail). */
    static void combineRowsScalar(float[] a, int aOff, int stride, int rows, float[] c, int cOff, float[] y, int yOff,
                                  int n, int from) {
        java.util.Arrays.fill(y, yOff + from, yOff + n, 0f);
        for (int r = 0; r < rows; r++) {
            float cr = c[cOff + r];
            int o = aOff + r * stride;
            for (int i = from; i < n; i++) {
                y[yOff + i] += cr * a[o + i];
            }
        }
    }

    @Override
    public void silu(float[] x, int off, int n) {
        for (int i = 0; i < n; i++) {
            x[off + i] = Engine.silu(x[off + i]);
        }
    }
}
