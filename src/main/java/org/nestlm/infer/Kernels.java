package org.nestlm.infer;

import org.nestlm.io.DType;

import java.lang.foreign.MemorySegment;

/**
 * The inner loops of the engine: dot products of mapped weight rows with activations, and a few float[]
 * primitives. Two implementations: {@link VectorKernels} on {@code jdk.incubator.vector} (SIMD) and
 * {@link ScalarKernels}, used when the incubator module is not in the boot layer (the JVM was started
 * without {@code --add-modules jdk.incubator.vector}) or when {@code -Dnestlm.vector=false}.
 */
interface Kernels {

    /** Weight rows in one tile of {@link #tileDots}: each activation vector loaded serves this many rows. */
    int TILE_ROWS = 4;

    /**
     * One tile of {@code y = x·Wᵀ}: up to {@link #TILE_ROWS} weight rows (byte offsets {@code r0..r3} in {@code w},
     * the first {@code nr} of them used) times {@code tokens} activation rows:
     * {@code y[t·yStride + yIndex + i] = Σ_c W[row_i, c] · x[xOff + t·cols + c]} for i in [0, nr), t in [0, tokens),
     * each activation row in the {@link #arrange arranged} order when {@link #arranges} is true for {@code dtype}.
     * Each weight vector is loaded (and widened from BF16) once for all tokens; with two or more tokens each
     * activation vector is loaded once for all rows, while one token's rows are dotted one after another (a single
     * read stream from memory). Every output is formed the same way whatever tile it is part of and however many
     * tokens share it.
     *
     * @param w the whole weight matrix (little-endian, {@code dtype})
     */
    void tileDots(MemorySegment w, DType dtype, long r0, long r1, long r2, long r3, int nr, int cols, float[] x, int xOff,
                  int tokens, float[] y, int yStride, int yIndex);

    /**
     * Dots one weight row with {@code tokens} activation rows (a tile of one row):
     * {@code y[t·yStride + yIndex] = Σ_c W[row, c] · x[xOff + t·cols + c]}.
     *
     * @param rowOffset byte offset of the row in {@code w}
     */
    default void rowDots(MemorySegment w, DType dtype, long rowOffset, int cols, float[] x, int xOff, int tokens,
                         float[] y, int yStride, int yIndex) {
        tileDots(w, dtype, rowOffset, rowOffset, rowOffset, rowOffset, 1, cols, x, xOff, tokens, y, yStride, yIndex);
    }

    /**
     * {@link #rowDots} for two rows at once (a tile of two rows; outputs at {@code yIndex} and {@code yIndex + 1}).
     * Every output equals what {@link #rowDots} gives for its row.
     */
    default void rowPairDots(MemorySegment w, DType dtype, long row0, long row1, int cols, float[] x, int xOff, int tokens,
                             float[] y, int yStride, int yIndex) {
        tileDots(w, dtype, row0, row1, row0, row0, 2, cols, x, xOff, tokens, y, yStride, yIndex);
    }

    /**
     * True when {@link #rowDots} over {@code dtype} weights reads each activation row in the order
     * {@link #arrange} writes rather than in column order (the SIMD kernels do for BF16).
     */
    boolean arranges(DType dtype);

    /**
     * Copies the activation run {@code x[off, off+n)} into {@code out[outOff, outOff+n)} in the order
     * {@link #rowDots} over {@code dtype} weights reads it: a plain copy unless {@link #arranges} says so. Called
     * once per product and token, so its cost is amortised over all rows.
     */
    void arrange(DType dtype, float[] x, int off, int n, float[] out, int outOff);

    /**
     * {@link #tileDots} over an int8 matrix: rows {@code i < nr} at {@code q[qOff + i·cols]} with scales from
     * {@code scales[sOff + i·groups]}, each row {@code Σ_g scales[g] · Σ_{c in group g} q[c]·x[c]} in groups of
     * {@link WeightMatrix#Q8_GROUP} columns (the last one may be shorter).
     */
    void tileDotsQ8(MemorySegment q, long qOff, float[] scales, int sOff, int groups, int nr, int cols, float[] x, int xOff,
                    int tokens, float[] y, int yStride, int yIndex);

    /** One int8 row dotted with one activation row (a tile of one row and one token of {@link #tileDotsQ8}). */
    default float rowDotQ8(MemorySegment q, long rowOffset, float[] scales, int sOff, int cols, float[] x, int xOff) {
        float[] y = new float[1];
        tileDotsQ8(q, rowOffset, scales, sOff, 0, 1, cols, x, xOff, 1, y, 1, 0);
        return y[0];
    }

    /** {@code Σ_i a[aOff+i]·b[bOff+i]}. */
    float dot(float[] a, int aOff, float[] b, int bOff, int n);

    /**
     * A weighted sum of rows: {@code y[yOff+i] = Σ_r c[cOff+r] · a[aOff + r·stride + i]} for i in [0, n), r in
     * [0, rows). Attention's scores (rows = head features of feature-major keys, i = positions) and its output
     * (rows = positions of position-major values, i = features) are both this.
     */
    void combineRows(float[] a, int aOff, int stride, int rows, float[] c, int cOff, float[] y, int yOff, int n);

    /** In place: {@code x[off+i] ← x[off+i] / (1 + exp(−x[off+i]))} (SiLU). */
    void silu(float[] x, int off, int n);

    /** In place: {@code x[off+i] ← exp(x[off+i] − max) / Σ_j exp(x[off+j] − max)} over {@code n ≥ 1} values. */
    void softmax(float[] x, int off, int n);

    /** {@code y[yOff+i] += a[aOff+i]·b[bOff+i]} (elementwise). */
    void mulAdd(float[] a, int aOff, float[] b, int bOff, float[] y, int yOff, int n);

    /**
     * One token of the selective scan for one Mamba head (docs/ARCHITECTURE.md §4.7), over its state
     * {@code s[sOff + n·P + p]} for n in [0, N), p in [0, P) (P = head_dim channels innermost):
     * <pre>
     *   s[n, p] ← decay·s[n, p] + dt·B[n]·x[p]
     *   y[p]    = D·x[p] + Σ_n C[n]·s[n, p]
     * </pre>
     * with x, y at {@code xOff}, {@code yOff} (P values) and B, C at {@code bOff}, {@code cOff} (N values).
     */
    void scanStep(float[] s, int sOff, int states, int channels, float decay, float dt, float d,
                  float[] x, int xOff, float[] bc, int bOff, int cOff, float[] y, int yOff);

    /** The implementation in use: vectorised when the incubator module is present. */
    static Kernels get() {
        return Holder.INSTANCE;
    }

    /** True when {@link #get()} returns the SIMD implementation. */
    static boolean vectorized() {
        return Holder.INSTANCE instanceof VectorKernels;
    }

    final class Holder {
        static final Kernels INSTANCE = choose();

        private Holder() {
        }

        private static Kernels choose() {
            boolean wanted = !"false".equalsIgnoreCase(System.getProperty("nestlm.vector"));
            if (wanted && ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
                try {
                    // Loaded by name so that the class (which links against the incubator module) is never
                    // touched when the module is absent.
                    Kernels k = (Kernels) Class.forName("org.nestlm.infer.VectorKernels").getDeclaredConstructor().newInstance();
                    if (((VectorKernels) k).usable()) {
                        return k;
                    }
                } catch (ReflectiveOperationException | LinkageError e) {
                    // fall through to the scalar kernels
                }
            }
            return new ScalarKernels();
        }
    }
}
