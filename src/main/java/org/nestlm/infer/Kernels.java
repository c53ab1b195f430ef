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

    /**
     * Dots one weight row with {@code tokens} activation rows:
     * {@code y[t·yStride + yIndex] = Σ_c W[row, c] · x[xOff + t·cols + c]} for t in [0, tokens).
     *
     * @param w         the whole weight matrix (row-major, little-endian, {@code dtype})
     * @param rowOffset byte offset of the row in {@code w}
     */
    void rowDots(MemorySegment w, DType dtype, long rowOffset, int cols, float[] x, int xOff, int tokens,
                 float[] y, int yStride, int yIndex);

    /**
     * One int8 row dotted with one activation row: {@code Σ_g scales[sOff+g] · Σ_{c in group g} q[rowOffset+c]·x[xOff+c]},
     * groups of {@link WeightMatrix#Q8_GROUP} columns (the last one may be shorter).
     */
    float rowDotQ8(MemorySegment q, long rowOffset, float[] scales, int sOff, int cols, float[] x, int xOff);

    /** {@code Σ_i a[aOff+i]·b[bOff+i]}. */
    float dot(float[] a, int aOff, float[] b, int bOff, int n);

    /** {@code y[yOff+i] += alpha·x[xOff+i]}. */
    void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n);

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
