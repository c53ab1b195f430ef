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

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
