package org.nestlm.infer;

import org.nestlm.io.DType;
import org.nestlm.io.TensorEntry;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A row-major weight matrix {@code [rows, cols]} used in place from the checkpoint mapping: every product
 * reads the mapped bytes (F32, BF16 or F16) directly; nothing is copied into Java arrays.
 *
 * <p>A matrix may be a <em>view</em> of a larger mapped matrix {@code [srcRows, srcCols]} (a nested elastic
 * sub-model read from the full weights): row {@code r} of the view is source row {@code rowIndex[r]}, and its
 * columns are the concatenation of column blocks {@code [colStarts[b], colStarts[b] + colLengths[b])} of that
 * row. Prefix views (d_e* input channels, the first MLP neurons) have one block starting at 0 and cost nothing
 * extra; blocked views (Mamba out_proj over the kept heads' channels, attention o_proj over the kept query
 * heads) dot each block with its part of the activations.
 *
 * @param name       canonical tensor name, for messages
 * @param data       the whole source tensor's bytes (little-endian)
 * @param rowIndex   source row of each view row; null: row r is source row r
 * @param rowBytes   bytes of one source row ({@code srcCols · dtype size})
 * @param colStarts  first source column of each block; null: one block [0, cols)
 * @param colLengths columns of each block (sum = cols); null with colStarts
 */
public record WeightMatrix(String name, int rows, int cols, DType dtype, MemorySegment data, int[] rowIndex, long rowBytes,
                           int[] colStarts, int[] colLengths, Q8 q8) {

    /**
     * A group of activation rows of about this many bytes stays in L2 while the weight rows stream past once, each
     * tile's rows read from memory and then from L1 for every token of the group: a decode batch is one group, so
     * the weight reads overlap the multiply-adds of all its sequences (a second group would read them from L2).
     */
    private static final int GROUP_BYTES = 512 * 1024;

    /** A block of weight rows of about this many bytes stays in L2 while every token group passes over it. */
    private static final int BLOCK_BYTES = 256 * 1024;

    /** Columns per int8 group of a {@link #quantized()} matrix, each with its own float scale. */
    public static final int Q8_GROUP = 32;

    /**
     * The int8 copy of a matrix made by {@link #quantized()}: dense {@code [rows, cols]} bytes (row-major) and
     * {@code groups} scales per row, {@code w[r, c] ≈ q[r, c] · scales[r·groups + c / Q8_GROUP]}.
     */
    public record Q8(MemorySegment q, float[] scales, int groups) {
    }

    /** The view/dense constructor of a matrix read in place (no int8 copy). */
    public WeightMatrix(String name, int rows, int cols, DType dtype, MemorySegment data, int[] rowIndex, long rowBytes,
                        int[] colStarts, int[] colLengths) {
        this(name, rows, cols, dtype, data, rowIndex, rowBytes, colStarts, colLengths, null);
    }

    public WeightMatrix {
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
            throw new IllegalArgumentException("tensor '" + name + "' has dtype " + dtype
                    + "; the engine reads F32, BF16 and F16 weights");
        }
        long size = dtype.byteSize();
        if (rowIndex == null && colStarts == null && rowBytes == (long) cols * size) {
            if (data.byteSize() != (long) rows * cols * size) {
                throw new IllegalArgumentException("tensor '" + name + "': " + data.byteSize() + " bytes for [" + rows + ", "
                        + cols + "] of " + dtype);
            }
        } else {
            long srcRows = data.byteSize() / rowBytes;
            if (rowIndex != null && rowIndex.length != rows) {
                throw new IllegalArgumentException("tensor '" + name + "': " + rowIndex.length + " row indices for " + rows + " rows");
            }
            int maxRow = rows == 0 ? -1 : rowIndex == null ? rows - 1 : java.util.Arrays.stream(rowIndex).max().getAsInt();
            if (maxRow >= srcRows) {
                throw new IllegalArgumentException("tensor '" + name + "': view row " + maxRow + " outside " + srcRows + " rows");
            }
            int sum = 0;
            if (colStarts != null) {
                for (int b = 0; b < colStarts.length; b++) {
                    sum += colLengths[b];
                    if ((colStarts[b] + (long) colLengths[b]) * size > rowBytes) {
                        throw new IllegalArgumentException("tensor '" + name + "': column block outside the row");
                    }
                }
            } else {
                sum = cols;
                if ((long) cols * size > rowBytes) {
                    throw new IllegalArgumentException("tensor '" + name + "': " + cols + " columns exceed the row");
                }
            }
            if (sum != cols) {
                throw new IllegalArgumentException("tensor '" + name + "': column blocks cover " + sum + " of " + cols + " columns");
            }
        }
    }

    /** A dense matrix over all of {@code data}. */
    public WeightMatrix(String name, int rows, int cols, DType dtype, MemorySegment data) {
        this(name, rows, cols, dtype, data, null, (long) cols * dtype.byteSize(), null, null, null);
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

    /**
     * A view of source tensor {@code e} seen as {@code [srcRows, srcCols]}: rows {@code rows} and columns
     * {@code cols} (both in view order). Runs of consecutive columns become blocks; nothing is copied.
     */
    public static WeightMatrix view(TensorEntry e, int srcRows, int srcCols, int[] rows, int[] cols) {
        if (e.numel() != (long) srcRows * srcCols) {
            throw new IllegalArgumentException((e.file() == null ? "" : e.file() + ": ") + "tensor '" + e.name()
                    + "' has shape " + java.util.Arrays.toString(e.shape()) + ", expected " + srcRows + " x " + srcCols + " elements");
        }
        boolean allRows = rows.length == srcRows && isRange(rows);
        boolean allCols = cols.length == srcCols && isRange(cols);
        if (allRows && allCols) {
            return of(e, srcRows, srcCols);
        }
        List<int[]> runs = new ArrayList<>();   // {start, length}
        for (int i = 0; i < cols.length; ) {
            int j = i + 1;
            while (j < cols.length && cols[j] == cols[j - 1] + 1) {
                j++;
            }
            runs.add(new int[] {cols[i], j - i});
            i = j;
        }
        int[] starts = null, lengths = null;
        if (!(runs.size() == 1 && runs.getFirst()[0] == 0)) {
            starts = runs.stream().mapToInt(r -> r[0]).toArray();
            lengths = runs.stream().mapToInt(r -> r[1]).toArray();
        }
        return new WeightMatrix(e.name(), rows.length, cols.length, e.dtype(), e.data(), allRows ? null : rows.clone(),
                (long) srcCols * e.dtype().byteSize(), starts, lengths, null);
    }

    private static boolean isRange(int[] idx) {
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] != i) {
                return false;
            }
        }
        return true;
    }

    /** Bytes one full product reads: the viewed elements only (int8 values and their scales when quantised). */
    public long byteSize() {
        if (q8 != null) {
            return (long) rows * cols + (long) rows * q8.groups * 4;
        }
        return (long) rows * cols * dtype.byteSize();
    }

    /**
     * The int8 copy of this matrix (or view): every row in groups of {@link #Q8_GROUP} columns, symmetric with
     * one scale per group ({@code scale = max|w| / 127}, {@code q = round(w / scale)}). The bytes live off-heap,
     * freed with the matrix; the source mapping is no longer read by products.
     */
    public WeightMatrix quantized() {
        if (q8 != null) {
            return this;
        }
        int groups = (cols + Q8_GROUP - 1) / Q8_GROUP;
        MemorySegment q = java.lang.foreign.Arena.ofAuto().allocate(Math.max(1, (long) rows * cols), 64);
        float[] scales = new float[rows * groups];
        float[] w = new float[cols];
        byte[] qb = new byte[cols];
        for (int r = 0; r < rows; r++) {
            row(r, w, 0);
            for (int g = 0; g < groups; g++) {
                int c0 = g * Q8_GROUP, c1 = Math.min(cols, c0 + Q8_GROUP);
                float amax = 0f;
                for (int c = c0; c < c1; c++) {
                    amax = Math.max(amax, Math.abs(w[c]));
                }
                float scale = amax / 127f;
                scales[r * groups + g] = scale;
                float inv = scale == 0f ? 0f : 1f / scale;
                for (int c = c0; c < c1; c++) {
                    qb[c] = (byte) Math.max(-127, Math.min(127, Math.round(w[c] * inv)));
                }
            }
            MemorySegment.copy(qb, 0, q, java.lang.foreign.ValueLayout.JAVA_BYTE, (long) r * cols, cols);
        }
        return new WeightMatrix(name, rows, cols, dtype, data, rowIndex, rowBytes, colStarts, colLengths,
                new Q8(q, scales, groups));
    }

    /** True when products read the int8 copy. */
    public boolean isQuantized() {
        return q8 != null;
    }

    /**
     * The product over the int8 copy, tiled as {@link #matmul}: every output dots the int8 row directly, formed
     * the same way whatever shares the product.
     */
    private void q8Matmul(float[] x, int tokens, float[] y, Parallel parallel) {
        Kernels k = Kernels.get();
        MemorySegment q = q8.q;
        float[] scales = q8.scales;
        int groups = q8.groups;
        int group = group(tokens);
        int block = block(cols);
        int tr = Kernels.TILE_ROWS;
        parallel.forRange((rows + tr - 1) / tr, (long) tr * cols * tokens, (from, to) -> {
            int end = Math.min(rows, to * tr);
            for (int b0 = from * tr; b0 < end; b0 += block) {
                int b1 = Math.min(end, b0 + block);
                for (int t0 = 0; t0 < tokens; t0 += group) {
                    int n = Math.min(group, tokens - t0);
                    for (int r = b0; r < b1; r += tr) {
                        k.tileDotsQ8(q, (long) r * cols, scales, r * groups, groups, Math.min(tr, b1 - r), cols, x, t0 * cols, n,
                                y, rows, t0 * rows + r);
                    }
                }
            }
        });
    }

    private void dequantizeRow(int r, float[] out, int off) {
        long base = (long) r * cols;
        int groups = q8.groups;
        for (int c = 0; c < cols; c++) {
            out[off + c] = q8.q.get(java.lang.foreign.ValueLayout.JAVA_BYTE, base + c) * q8.scales[r * groups + c / Q8_GROUP];
        }
    }

    /** True when this matrix reads part of a larger mapped tensor. */
    public boolean isView() {
        return rowIndex != null || colStarts != null || rowBytes != (long) cols * dtype.byteSize();
    }

    private long rowOffset(int r) {
        return (rowIndex == null ? r : rowIndex[r]) * rowBytes;
    }

    /**
     * {@code y[t, r] = Σ_c W[r, c]·x[t, c]} for {@code tokens} rows of x: x [tokens, cols] → y [tokens, rows].
     * Rows are split across threads in runs of {@link Kernels#TILE_ROWS}; each thread goes through its rows in
     * order (the weights stream from memory sequentially) in blocks that stay in L2 while every group of tokens
     * (activations that stay in L1) passes over them, a tile of four rows × up to four tokens at a time: each
     * weight vector is read and widened once per tile for all its tokens, each activation vector once for its
     * four rows (one token: row after row, see {@link Kernels#tileDots}), and the weights come from memory once per
     * product whatever the number of tokens. The tokens are
     * independent rows (one prompt's positions or one token of each of several sequences): each gets the same
     * bits as in a product of its own.
     */
    public void matmul(float[] x, int tokens, float[] y, Parallel parallel) {
        if (q8 != null) {
            q8Matmul(x, tokens, y, parallel);
            return;
        }
        if (colStarts != null) {
            blockedMatmul(x, tokens, y, parallel);
            return;
        }
        Kernels k = Kernels.get();
        float[] xs = k.arranges(dtype) ? arranged(k, x, tokens) : x;   // [tokens, cols] in the kernel's order
        int group = group(tokens);
        int block = block((long) cols * dtype.byteSize());
        int tr = Kernels.TILE_ROWS;
        parallel.forRange((rows + tr - 1) / tr, (long) tr * cols * tokens, (from, to) -> {
            int end = Math.min(rows, to * tr);
            for (int b0 = from * tr; b0 < end; b0 += block) {
                int b1 = Math.min(end, b0 + block);
                for (int t0 = 0; t0 < tokens; t0 += group) {
                    int n = Math.min(group, tokens - t0);
                    for (int r = b0; r < b1; r += tr) {
                        int nr = Math.min(tr, b1 - r);
                        long o0 = rowOffset(r);
                        k.tileDots(data, dtype, o0, nr > 1 ? rowOffset(r + 1) : o0, nr > 2 ? rowOffset(r + 2) : o0,
                                nr > 3 ? rowOffset(r + 3) : o0, nr, cols, xs, t0 * cols, n, y, rows, t0 * rows + r);
                    }
                }
            }
        });
    }

    /**
     * Tokens per group: as many activation rows as fit {@link #GROUP_BYTES}, in whole tiles of four (at least
     * one tile), at most all of them.
     */
    private int group(int tokens) {
        int fit = GROUP_BYTES / Math.max(1, cols * 4);
        return Math.min(tokens, Math.max(4, fit - fit % 4));
    }

    /**
     * Weight rows per block of about {@link #BLOCK_BYTES}, in whole tiles; read from memory once per product, from
     * L2 for the other token groups.
     */
    private static int block(long rowBytes) {
        int rows = (int) Math.max(1, BLOCK_BYTES / Math.max(1, rowBytes));
        return Math.max(Kernels.TILE_ROWS, rows - rows % Kernels.TILE_ROWS);
    }

    /** Per thread, the arranged activations of its last product: grown as needed, never shrunk. */
    private static final ThreadLocal<float[]> ARRANGED = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * x [tokens, cols] with every token row in the order the kernel reads it against this matrix's dtype, in the
     * calling thread's scratch (the pool only reads it while the caller waits for the product).
     */
    private float[] arranged(Kernels k, float[] x, int tokens) {
        float[] xa = ARRANGED.get();
        if (xa.length < tokens * cols) {
            xa = new float[tokens * cols];
            ARRANGED.set(xa);
        }
        for (int t = 0; t < tokens; t++) {
            k.arrange(dtype, x, t * cols, cols, xa, t * cols);
        }
        return xa;
    }

    /**
     * The blocked view: activations are regrouped block-major, xb[b] = x[:, block b] as [tokens, len_b] (each
     * piece in the kernel's order), so each block is a contiguous dot with its weight run; the partial sums of the
     * blocks add up per output in block order. Tiled as {@link #matmul}.
     */
    private void blockedMatmul(float[] x, int tokens, float[] y, Parallel parallel) {
        Kernels k = Kernels.get();
        int blocks = colStarts.length;
        int[] xOff = new int[blocks];            // offset of block b in xb
        float[] xb = new float[tokens * cols];
        int o = 0, colOff = 0;
        for (int b = 0; b < blocks; b++) {
            xOff[b] = o;
            int len = colLengths[b];
            for (int t = 0; t < tokens; t++) {
                k.arrange(dtype, x, t * cols + colOff, len, xb, o + t * len);
            }
            o += tokens * len;
            colOff += len;
        }
        long size = dtype.byteSize();
        int tr = Kernels.TILE_ROWS;
        int group = group(tokens);
        parallel.forRange((rows + tr - 1) / tr, (long) tr * cols * tokens, (from, to) -> {
            float[] part = new float[group * tr];   // [tokens of the group, rows of the tile]
            int end = Math.min(rows, to * tr);
            for (int t0 = 0; t0 < tokens; t0 += group) {
                int n = Math.min(group, tokens - t0);
                for (int r = from * tr; r < end; r += tr) {
                    int nr = Math.min(tr, end - r);
                    long o0 = rowOffset(r), o1 = nr > 1 ? rowOffset(r + 1) : o0, o2 = nr > 2 ? rowOffset(r + 2) : o0,
                            o3 = nr > 3 ? rowOffset(r + 3) : o0;
                    for (int t = t0; t < t0 + n; t++) {
                        for (int i = 0; i < nr; i++) {
                            y[t * rows + r + i] = 0f;
                        }
                    }
                    for (int b = 0; b < blocks; b++) {
                        long c0 = colStarts[b] * size;
                        int len = colLengths[b];
                        k.tileDots(data, dtype, o0 + c0, o1 + c0, o2 + c0, o3 + c0, nr, len, xb, xOff[b] + t0 * len, n,
                                part, tr, 0);
                        for (int t = 0; t < n; t++) {
                            for (int i = 0; i < nr; i++) {
                                y[(t0 + t) * rows + r + i] += part[t * tr + i];
                            }
                        }
                    }
                }
            }
        });
    }

    /** Row {@code r} widened to float into {@code out[off, off+cols)} (embedding lookup). */
    public void row(int r, float[] out, int off) {
        if (q8 != null) {
            dequantizeRow(r, out, off);
            return;
        }
        long base = rowOffset(r);
        long size = dtype.byteSize();
        if (colStarts == null) {
            for (int c = 0; c < cols; c++) {
                out[off + c] = ScalarKernels.load(data, dtype, base + c * size);
            }
            return;
        }
        int n = off;
        for (int b = 0; b < colStarts.length; b++) {
            for (int c = 0; c < colLengths[b]; c++) {
                out[n++] = ScalarKernels.load(data, dtype, base + (colStarts[b] + (long) c) * size);
            }
        }
    }
}
