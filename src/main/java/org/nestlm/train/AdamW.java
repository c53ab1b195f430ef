package org.nestlm.train;

import ai.djl.ndarray.NDArray;
import org.nestlm.model.Tensors;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import org.nestlm.model.Param;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW with decoupled weight decay (Loshchilov & Hutter), global-norm gradient clipping and explicit
 * gradient zeroing, on DJL arrays. Written here rather than taken from DJL because DJL's optimizers clip
 * element-wise on one side only, apply one weight decay to every parameter, and zero gradients themselves
 * (docs/DJL.md §4).
 *
 * <p>Update, per parameter w with gradient g (PyTorch's AdamW):
 * <pre>
 *   w ← w·(1 − lr·λ)            (λ = weight decay, only for parameters with decay)
 *   m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²
 *   w ← w − lr · (m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + ε)
 * </pre>
 */
public final class AdamW implements AutoCloseable {

    static final double EPS = 1e-8;

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final FloatVector ZERO = FloatVector.zero(F);
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat JAVA_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private final List<Param> params;
    private final NDManager manager;
    private final Map<String, NDArray> m = new LinkedHashMap<>();   // first moments, shaped like each param
    private final Map<String, NDArray> v = new LinkedHashMap<>();   // second moments
    private final double beta1, beta2, weightDecay;
    private long t;   // updates applied so far

    /** An optimizer of {@code params} with {@code config}'s betas and weight decay (its clip is the caller's). */
    public AdamW(List<Param> params, NDManager parent, OptimizerConfig config) {
        this(params, parent, config.beta1(), config.beta2(), config.weightDecay());
    }

    public AdamW(List<Param> params, NDManager parent, double beta1, double beta2, double weightDecay) {
        this.params = List.copyOf(params);
        this.manager = parent.newSubManager();
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.weightDecay = weightDecay;
        for (Param p : params) {
            p.value().setRequiresGradient(true);
            m.put(p.name(), manager.zeros(p.value().getShape()));
            v.put(p.name(), manager.zeros(p.value().getShape()));
        }
    }

    /**
     * Clips the summed gradients to a global L2 norm, applies one update with learning rate {@code lr},
     * then zeroes the gradients (DJL accumulates across backward calls, which gives accumulation for free).
     *
     * @return the global gradient norm before clipping
     * @throws NonFiniteGradientException when a gradient holds inf or NaN (nothing is updated; the gradients stay
     *                                    until {@link #zeroGradients()})
     */
    public double step(double lr, double clipNorm) {
        try (NDManager scope = manager.newSubManager()) {
            NDArray[] grads = new NDArray[params.size()];
            NDList norms = new NDList();
            for (int i = 0; i < grads.length; i++) {
                grads[i] = gradient(params.get(i));
                if (grads[i] == null) {
                    continue;                                 // never reached by a backward pass yet: skipped, as PyTorch does
                }
                grads[i].attach(scope);                       // the handle, not the storage, is freed with the scope
                norms.add(grads[i].norm());                   // per-tensor norms first: a sum of squares can overflow fp32
            }
            // one read-back for the global norm (a read per tensor cost a synchronisation each)
            double norm = norms.isEmpty() ? 0 : NDArrays.stack(norms).toType(DataType.FLOAT64, false).norm().getDouble();
            if (!Double.isFinite(norm)) {
                throw new NonFiniteGradientException("non-finite gradient in " + nonFinite(grads) + "; the update was not applied");
            }
            double scale = clipNorm > 0 && norm > clipNorm ? clipNorm / (norm + 1e-6) : 1.0;
            t++;
            double c1 = 1 - Math.pow(beta1, t), c2 = 1 - Math.pow(beta2, t);
            for (int i = 0; i < grads.length; i++) {
                if (grads[i] == null) {
                    continue;
                }
                Param p = params.get(i);
                Step step = new Step((float) scale, (float) beta1, (float) (1 - beta1), (float) beta2, (float) (1 - beta2),
                        p.decay() && weightDecay > 0 ? (float) (1 - lr * weightDecay) : 1f, (float) c2, (float) EPS,
                        (float) (lr / c1));
                update(Tensors.storage(p.value()), Tensors.storage(grads[i]), Tensors.storage(m.get(p.name())),
                        Tensors.storage(v.get(p.name())), p.numel(), step);
            }
            return norm;
        }
    }

    /**
     * One step's fp32 constants, each the value the update's arithmetic uses: the clipping factor (1 when not
     * clipped), β1, 1 − β1, β2, 1 − β2, the decay factor 1 − lr·λ (1 for a parameter without decay), the bias
     * correction 1 − β2^t, ε, and the step size lr / (1 − β1^t).
     */
    record Step(float scale, float beta1, float oneMinusBeta1, float beta2, float oneMinusBeta2, float decay,
                float c2, float eps, float stepSize) {
    }

    /**
     * The update of one parameter, in place over {@code n} fp32 values of its weights {@code w}, gradient {@code g}
     * and moments {@code m}, {@code v} (libtorch's storage, {@link Tensors#storage}), in one pass; the gradient is
     * left zeroed for the next accumulation. Every product, quotient, square root and sum is rounded to fp32 on its
     * own, in this order, with no fused multiply-add, in the vector body and the tail alike, so a value's update
     * does not depend on where it lies in memory (unlike libtorch's fused {@code addcmul}, whose vector body and
     * scalar tail round differently):
     * <pre>
     *   g' = g·scale;  m = m·β1 + g'·(1 − β1);  v = v·β2 + (g'·g')·(1 − β2)
     *   w = w·decay − (m / (sqrt(v / c2) + ε))·stepSize
     * </pre>
     * One pass replaces the sixteen tensor operations per parameter this was first written as, and is 3 to 4×
     * faster (docs/PERFORMANCE.md, "The optimizer in one pass"). The results are
     * theirs to the bit except for the square root, which here is IEEE fp32 (correctly rounded) while libtorch's
     * vectorised one is not always: it is an ulp off for some values ({@code AdamWTest}).
     */
    static void update(MemorySegment w, MemorySegment g, MemorySegment m, MemorySegment v, long n, Step s) {
        long upper = n - n % F.length();
        long i = 0;
        for (; i < upper; i += F.length()) {
            long o = i * Float.BYTES;
            FloatVector gi = FloatVector.fromMemorySegment(F, g, o, NATIVE).mul(s.scale());
            FloatVector mi = FloatVector.fromMemorySegment(F, m, o, NATIVE).mul(s.beta1()).add(gi.mul(s.oneMinusBeta1()));
            FloatVector vi = FloatVector.fromMemorySegment(F, v, o, NATIVE).mul(s.beta2())
                    .add(gi.mul(gi).mul(s.oneMinusBeta2()));
            FloatVector denom = vi.div(s.c2()).lanewise(VectorOperators.SQRT).add(s.eps());
            FloatVector wi = FloatVector.fromMemorySegment(F, w, o, NATIVE).mul(s.decay()).sub(mi.div(denom).mul(s.stepSize()));
            mi.intoMemorySegment(m, o, NATIVE);
            vi.intoMemorySegment(v, o, NATIVE);
            wi.intoMemorySegment(w, o, NATIVE);
            ZERO.intoMemorySegment(g, o, NATIVE);
        }
        for (; i < n; i++) {
            long o = i * Float.BYTES;
            float gi = g.get(JAVA_FLOAT, o) * s.scale();
            float mi = m.get(JAVA_FLOAT, o) * s.beta1() + gi * s.oneMinusBeta1();
            float vi = v.get(JAVA_FLOAT, o) * s.beta2() + gi * gi * s.oneMinusBeta2();
            float denom = (float) Math.sqrt(vi / s.c2()) + s.eps();   // the fp32 root, correctly rounded via double
            m.set(JAVA_FLOAT, o, mi);
            v.set(JAVA_FLOAT, o, vi);
            w.set(JAVA_FLOAT, o, w.get(JAVA_FLOAT, o) * s.decay() - mi / denom * s.stepSize());
            g.set(JAVA_FLOAT, o, 0f);
        }
    }

    /** Names of the parameters whose gradient holds inf or NaN (for the error message). */
    private String nonFinite(NDArray[] grads) {
        List<String> bad = new java.util.ArrayList<>();
        for (int i = 0; i < grads.length; i++) {
            if (grads[i] != null && !Float.isFinite(grads[i].abs().max().getFloat())) {
                bad.add(params.get(i).name());
            }
        }
        return bad.size() > 6 ? bad.subList(0, 6) + " and " + (bad.size() - 6) + " more" : bad.toString();
    }

    /**
     * Discards accumulated gradients without updating (e.g. after a non-finite loss). Zeroed with libtorch's
     * {@code zero_}, not multiplied by 0: NaN·0 is NaN, so a multiplied-away NaN gradient stayed NaN and every later
     * step was skipped until the run stopped.
     */
    public void zeroGradients() {
        for (Param p : params) {
            JniUtils.zeroGrad((PtNDArray) p.value());
        }
    }

    /** The parameter's gradient, or null before any backward pass has reached it (DJL throws then). */
    private static NDArray gradient(Param p) {
        try {
            return p.value().getGradient();
        } catch (IllegalStateException e) {
            return null;
        }
    }

    public long updates() {
        return t;
    }

    /** Moments by "m/NAME" and "v/NAME", for checkpoints. */
    public Map<String, float[]> state() {
        Map<String, float[]> s = new LinkedHashMap<>();
        m.forEach((k, a) -> s.put("m/" + k, a.toFloatArray()));
        v.forEach((k, a) -> s.put("v/" + k, a.toFloatArray()));
        return s;
    }

    /** Moments as tensors named "m/NAME" and "v/NAME", shaped like their parameters, for a safetensors file. */
    public List<org.nestlm.io.TensorData> tensors() {
        List<org.nestlm.io.TensorData> t = new java.util.ArrayList<>();
        for (Param p : params) {
            long[] shape = p.value().getShape().getShape();
            t.add(new org.nestlm.io.TensorData("m/" + p.name(), shape, m.get(p.name()).toFloatArray()));
            t.add(new org.nestlm.io.TensorData("v/" + p.name(), shape, v.get(p.name()).toFloatArray()));
        }
        return t;
    }

    /** Restores the moments and the update count of a checkpoint. */
    public void load(Map<String, float[]> state, long updates) {
        for (Param p : params) {
            float[] mm = state.get("m/" + p.name()), vv = state.get("v/" + p.name());
            if (mm == null || vv == null) {
                throw new IllegalArgumentException("optimizer state has no moments for '" + p.name() + "'");
            }
            Tensors.assign(m.get(p.name()), mm);
            Tensors.assign(v.get(p.name()), vv);
        }
        t = updates;
    }

    @Override
    public void close() {
        manager.close();
    }
}
