package org.nestlm.train;

import ai.djl.ndarray.NDArray;
import org.nestlm.model.Tensors;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import org.nestlm.model.DjlScope;
import org.nestlm.model.Param;

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
            // the step's constants as 0-d tensors, made once per step instead of once per use and parameter
            // (each Tensors.mul(x, s) makes, uses and frees one: three native calls where the product is one)
            NDArray scaleT = Tensors.scalar(scope, scale), b1 = Tensors.scalar(scope, beta1);
            NDArray oneMinusB1 = Tensors.scalar(scope, 1 - beta1), b2 = Tensors.scalar(scope, beta2);
            NDArray oneMinusB2 = Tensors.scalar(scope, 1 - beta2), decay = Tensors.scalar(scope, 1 - lr * weightDecay);
            NDArray c2T = Tensors.scalar(scope, c2), eps = Tensors.scalar(scope, EPS), stepSize = Tensors.scalar(scope, lr / c1);
            for (int i = 0; i < grads.length; i++) {
                if (grads[i] == null) {
                    continue;
                }
                Param p = params.get(i);
                NDArray g = scale == 1.0 ? grads[i] : grads[i].mul(scaleT);
                NDArray w = p.value();
                NDArray mi = m.get(p.name()), vi = v.get(p.name());
                // Separate multiplies and adds, not libtorch's fused adamUpdate (one native call per tensor):
                // with it two identical elastify runs in one JVM differ in the last bits (addcmul's vector body
                // and scalar tail round differently, so results follow buffer alignment), and the router's discrete
                // choices turn that into different losses: a resumed run would not reproduce an uninterrupted one.
                mi.muli(b1).addi(g.mul(oneMinusB1));
                vi.muli(b2).addi(g.square().mul(oneMinusB2));
                if (p.decay() && weightDecay > 0) {
                    w.muli(decay);
                }
                // moments are long-lived: results computed from them are moved into this step's scope
                NDArray denom = DjlScope.with(vi.div(c2T), g).sqrt().add(eps);
                NDArray update = DjlScope.with(mi.div(denom), g).mul(stepSize);
                w.subi(update);
                JniUtils.zeroGrad((PtNDArray) p.value());     // zero in place for the next accumulation
            }
            return norm;
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
