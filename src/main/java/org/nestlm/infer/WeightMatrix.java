package org.nestlm.infer;

import org.nestlm.io.DType;
import org.nestlm.io.TensorEntry;

import java.lang.foreign.MemorySegment;

/**
 * A row-major weight matrix {@code [rows, cols]} used in place from the checkpoint mapping: every product
 * reads the mapped bytes (F32, BF16 or F16) directly; nothing is copied into Java arrays.
 *
 * @param name  canonical tensor name, for messages
 * @param data  {@code rows·cols·dtype.byteSize()} little-endian bytes
 */
public record WeightMatrix(String name, int rows, int cols, DType dtype, MemorySegment data) {

    /** Activations of at most this many bytes per token tile stay in L2 while a row range streams past. */
    private static final int TILE_BYTES = 256 * 1024;

    public WeightMatrix {
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
            throw new IllegalArgumentException("tensor '" + name + "' has dtype " + dtype
                    + "; the engine reads F32, BF16 and F16 weights");
        }
        if (data.byteSize() != (long) rows * cols * dtype.byteSize()) {
            throw new IllegalArgumentException("tensor '" + name + "': " + data.byteSize() + " bytes for [" + rows + ", "
                    + cols + "] of " + dtype);
        }
    }

    /** A 2-D tensor of the checkpoint, checked against the expected shape. */
    public static WeightMatrix of(TensorEntry e, int rows, int cols) {
        long[] s = e.shape();
        long numel = e.numel();
        if (numel != (long) rows * cols || s[0] != rows) {
            throw new IllegalArgumentException((e.file() == null ? "" : e.file() + ": ") + "tensor '" + e.name()
                    + "' has shape " + java.util.Arrays.toString(s) + ", expected [" + rows + ", " + cols + "]");
        }
        return new WeightMatrix(e.name(), rows, cols, e.dtype(), e.data());
    }

    /** Bytes one full product reads: the whole matrix. */
    public long byteSize() {
        return data.byteSize();
    }

    /**
     * {@code y[t, r] = Σ_c W[r, c]·x[t, c]} for {@code tokens} rows of x: x [tokens, cols] → y [tokens, rows].
     * Rows are split across threads; tokens are tiled so a tile of activations stays in cache while each
     * weight row is widened once per four tokens.
     */
    public void matmul(float[] x, int tokens, float[] y, Parallel parallel) {
        Kernels k = Kernels.get();
        long rowBytes = (long) cols * dtype.byteSize();
        int tile = Math.max(4, Math.min(tokens, TILE_BYTES / Math.max(1, cols * 4)));
        parallel.forRange(rows, (long) cols * tokens, (from, to) -> {
            for (int t0 = 0; t0 < tokens; t0 += tile) {
                int n = Math.min(tile, tokens - t0);
                for (int r = from; r < to; r++) {
                    k.rowDots(data, dtype, r * rowBytes, cols, x, t0 * cols, n, y, rows, t0 * rows + r);
                }
            }
        });
    }

    /** Row {@code r} widened to float into {@code out[off, off+cols)} (embedding lookup). */
    public void row(int r, float[] out, int off) {
        long base = (long) r * cols * dtype.byteSize();
        for (int c = 0; c < cols; c++) {
            out[off + c] = ScalarKernels.load(data, dtype, base + (long) c * dtype.byteSize());
        }
    }
}
