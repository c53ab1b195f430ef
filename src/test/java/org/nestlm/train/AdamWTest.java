package org.nestlm.train;

import ai.djl.engine.Engine;
import org.nestlm.model.Tensors;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;
import org.nestlm.DjlTestBase;
import org.nestlm.model.Param;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * AdamW against a plain double-precision transcription of PyTorch's update (decoupled decay only for parameters
 * with {@code decay}, bias corrections, global-norm clipping), over several steps with changing gradients.
 */
class AdamWTest extends DjlTestBase {

    private static final double B1 = 0.9, B2 = 0.95, WD = 0.1, EPS = 1e-8;

    /** Loss Σ_i c_i·w_i² / 2 per parameter: gradient c·w, so the gradients change as the weights move. */
    private static void backward(List<Param> params, float[][] c) {
        try (NDManager scope = NDManager.newBaseManager();
             GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray loss = null;
            for (int p = 0; p < params.size(); p++) {
                NDArray term = params.get(p).value().square().mul(Tensors.of(scope, c[p])).sum();
                term = Tensors.div(term, 2);
                term.attach(scope);
                loss = loss == null ? term : loss.add(term);
            }
            gc.backward(loss);
        }
    }

    @Test
    void matchesTheReferenceUpdateWithDecayClippingAndBiasCorrection() {
        float[][] w0 = {{0.5f, -1.5f, 2.0f, 0.25f}, {3.0f, -0.75f}};
        float[][] c = {{1.0f, 2.0f, -0.5f, 4.0f}, {0.3f, 6.0f}};
        boolean[] decays = {true, false};
        Param a = new Param("a", Tensors.of(manager, w0[0], new Shape(4)), decays[0]);
        Param b = new Param("b", Tensors.of(manager, w0[1], new Shape(2)), decays[1]);
        List<Param> params = List.of(a, b);
        double[][] w = {toDouble(w0[0]), toDouble(w0[1])};
        double[][] m = {new double[4], new double[2]}, v = {new double[4], new double[2]};
        double[] clips = {0, 1.0, 0.5, 100.0};   // none, active, active, inactive
        double[] lrs = {1e-2, 3e-2, 2e-2, 5e-3};
        try (AdamW opt = new AdamW(params, manager, B1, B2, WD)) {
            for (int t = 1; t <= clips.length; t++) {
                backward(params, c);
                // reference: gradient c·w, global norm, clip scale, PyTorch AdamW with decoupled decay
                double sq = 0;
                double[][] g = new double[2][];
                for (int p = 0; p < 2; p++) {
                    g[p] = new double[w[p].length];
                    for (int i = 0; i < w[p].length; i++) {
                        g[p][i] = c[p][i] * w[p][i];
                        sq += g[p][i] * g[p][i];
                    }
                }
                double norm = Math.sqrt(sq), clip = clips[t - 1], lr = lrs[t - 1];
                double scale = clip > 0 && norm > clip ? clip / (norm + 1e-6) : 1.0;
                for (int p = 0; p < 2; p++) {
                    for (int i = 0; i < w[p].length; i++) {
                        double gi = g[p][i] * scale;
                        if (decays[p]) {
                            w[p][i] *= 1 - lr * WD;
                        }
                        m[p][i] = B1 * m[p][i] + (1 - B1) * gi;
                        v[p][i] = B2 * v[p][i] + (1 - B2) * gi * gi;
                        double mh = m[p][i] / (1 - Math.pow(B1, t)), vh = v[p][i] / (1 - Math.pow(B2, t));
                        w[p][i] -= lr * mh / (Math.sqrt(vh) + EPS);
                    }
                }
                double got = opt.step(lr, clip);
                assertEquals(norm, got, 1e-5 * norm, "global norm at step " + t);
                assertArrayEquals(w[0], toDouble(a.value().toFloatArray()), 2e-6, "decayed parameter after step " + t);
                assertArrayEquals(w[1], toDouble(b.value().toFloatArray()), 2e-6, "undecayed parameter after step " + t);
                assertArrayEquals(new float[4], a.value().getGradient().toFloatArray(), 0f, "gradients are zeroed after a step");
            }
            assertEquals(clips.length, opt.updates());
        }
    }

    @Test
    void refusesANonFiniteGradientAndLeavesTheWeightsAlone() {
        Param a = new Param("layer.weight", Tensors.of(manager, new float[] {1f, 2f}), true);
        try (AdamW opt = new AdamW(List.of(a), manager, B1, B2, WD)) {
            backward(List.of(a), new float[][] {{Float.POSITIVE_INFINITY, 1f}});
            NonFiniteGradientException e = assertThrows(NonFiniteGradientException.class, () -> opt.step(1e-2, 1.0));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("layer.weight"), e.getMessage());
            assertArrayEquals(new float[] {1f, 2f}, a.value().toFloatArray());
            assertEquals(0, opt.updates());
            // discarding the bad gradients really clears them (inf·0 and NaN·0 are NaN): the next step goes through
            opt.zeroGradients();
            backward(List.of(a), new float[][] {{1f, 1f}});
            assertEquals(Math.sqrt(5), opt.step(1e-2, 1.0), 1e-5);
            assertEquals(1, opt.updates());
        }
    }

    /**
     * The one-pass update over libtorch's storage equals, bit for bit, the tensor operations it replaced (one
     * libtorch operation per product, quotient and sum, in the same order; the square root correctly rounded), over
     * three steps with and without clipping and decay, for lengths that end in the vector body and in the tail.
     */
    @Test
    void theOnePassUpdateEqualsTheTensorOperationsItReplacedToTheBit() {
        java.util.Random r = new java.util.Random(7);
        for (int n : new int[] {5, 37, 4099}) {
            float[] w0 = new float[n], m0 = new float[n], v0 = new float[n];
            for (int i = 0; i < n; i++) {
                w0[i] = (float) r.nextGaussian();
                m0[i] = (float) (0.01 * r.nextGaussian());
                v0[i] = (float) (1e-4 * r.nextDouble());
            }
            NDArray w = Tensors.of(manager, w0), m = Tensors.of(manager, m0), v = Tensors.of(manager, v0);
            NDArray w1 = Tensors.of(manager, w0), m1 = Tensors.of(manager, m0), v1 = Tensors.of(manager, v0);
            for (int t = 1; t <= 3; t++) {
                float[] g0 = new float[n];
                for (int i = 0; i < n; i++) {
                    g0[i] = (float) (0.1 * r.nextGaussian());
                }
                double lr = 3e-3 * t, c1 = 1 - Math.pow(B1, t), c2 = 1 - Math.pow(B2, t);
                AdamW.Step step = new AdamW.Step(t == 2 ? 1f : (float) (0.7 / t), (float) B1, (float) (1 - B1), (float) B2,
                        (float) (1 - B2), t == 3 ? 1f : (float) (1 - lr * WD), (float) c2, (float) EPS, (float) (lr / c1));
                try (NDManager scope = manager.newSubManager()) {
                    NDArray g = Tensors.of(scope, g0), g1 = Tensors.of(scope, g0);
                    NDArray gs = step.scale() == 1f ? g : g.mul(Tensors.scalar(scope, step.scale()));
                    m.muli(Tensors.scalar(scope, step.beta1())).addi(gs.mul(Tensors.scalar(scope, step.oneMinusBeta1())));
                    v.muli(Tensors.scalar(scope, step.beta2())).addi(gs.square().mul(Tensors.scalar(scope, step.oneMinusBeta2())));
                    if (step.decay() != 1f) {
                        w.muli(Tensors.scalar(scope, step.decay()));
                    }
                    // the root as IEEE fp32 (libtorch's own, MKL's vector math, is not always correctly rounded)
                    float[] q = v.div(Tensors.scalar(scope, step.c2())).toFloatArray();
                    for (int k = 0; k < n; k++) {
                        q[k] = (float) Math.sqrt(q[k]);
                    }
                    NDArray denom = Tensors.of(scope, q).add(Tensors.scalar(scope, step.eps()));
                    w.subi(m.div(denom).mul(Tensors.scalar(scope, step.stepSize())));
                    AdamW.update(Tensors.storage(w1), Tensors.storage(g1), Tensors.storage(m1), Tensors.storage(v1), n, step);
                    String at = "length " + n + ", step " + t;
                    assertArrayEquals(m.toFloatArray(), m1.toFloatArray(), "first moments, " + at);
                    assertArrayEquals(v.toFloatArray(), v1.toFloatArray(), "second moments, " + at);
                    assertArrayEquals(w.toFloatArray(), w1.toFloatArray(), "weights, " + at);
                    assertArrayEquals(new float[n], g1.toFloatArray(), "the gradient is zeroed, " + at);
                }
            }
        }
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
