package org.nestlm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/** The two normalisations of Nemotron-H, in fp32 (NEMOTRON_H_FORMAT.md §4.1, §4.3). */
public final class Norms {

    private Norms() {
    }

    /** {@code w ⊙ x / sqrt(mean(x²) + eps)} over the last axis. x [..., H], w [H]. */
    public static NDArray rmsNorm(NDArray x, NDArray w, double eps) {
        NDArray inv = x.square().mean(new int[] {-1}, true).add(eps).pow(-0.5);
        return x.mul(inv).mul(w);
    }

    /**
     * Mamba-2's gated RMSNorm: gate first, then a group-wise RMSNorm over {@code groups} groups of
     * {@code I/groups} consecutive channels, then the weight. y, z [..., I], w [I].
     */
    public static NDArray gatedRmsNorm(NDArray y, NDArray z, NDArray w, int groups, double eps) {
        NDArray g = y.mul(silu(z));                                  // [..., I]
        Shape s = g.getShape();
        long inner = s.get(s.dimension() - 1);
        Shape grouped = s.slice(0, s.dimension() - 1).add(groups, inner / groups);
        NDArray gg = g.reshape(grouped);                              // [..., G, I/G]
        NDArray inv = gg.square().mean(new int[] {-1}, true).add(eps).pow(-0.5);
        return gg.mul(inv).reshape(s).mul(w);
    }

    /** {@code x·sigmoid(x)}. */
    public static NDArray silu(NDArray x) {
        return x.mul(ai.djl.nn.Activation.sigmoid(x));
    }
}
