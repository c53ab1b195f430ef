package org.nestlm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/** The two normalisations of Nemotron-H, in fp32 (docs/ARCHITECTURE.md §4.1, §4.3). */
public final class Norms {

    private Norms() {
    }

    /** {@code w ⊙ x / sqrt(mean(x²) + eps)} over the last axis. x [..., H], w [H]. */
    public static NDArray rmsNorm(NDArray x, NDArray w, double eps) {
        return rmsNorm(x, w, eps, null);
    }

    /**
     * RMSNorm over the active channels only: {@code sqrt(Σ_active x² / n_active + eps)}, then the weight and
     * the mask. With a prefix mask this is exactly the norm of the sliced model (docs/METHOD.md §4.3).
     *
     * @param mask [H] 0/1, or null for all channels
     */
    public static NDArray rmsNorm(NDArray x, NDArray w, double eps, NDArray mask) {
        if (mask == null) {
            NDArray inv = invSqrt(x.square().mean(new int[] {-1}, true), eps);
            return x.mul(inv).mul(w);
        }
        NDArray xm = x.mul(mask);
        NDArray meanSq = xm.square().sum(new int[] {-1}, true).div(mask.sum());
        return xm.mul(invSqrt(meanSq, eps)).mul(w).mul(mask);
    }

    /**
     * Mamba-2's gated RMSNorm: gate first, then a group-wise RMSNorm over {@code groups} groups of
     * {@code I/groups} consecutive channels, then the weight. y, z [..., I], w [I].
     */
    public static NDArray gatedRmsNorm(NDArray y, NDArray z, NDArray w, int groups, double eps) {
        return gatedRmsNorm(y, z, w, groups, eps, null);
    }

    /**
     * Gated RMSNorm whose group statistics count the active (head, channel) pairs only, so that a masked
     * Mamba layer normalises like the sliced one (group size {@code k·m_d*}).
     *
     * @param mask [I] 0/1 over (head, channel), head-major, or null
     */
    public static NDArray gatedRmsNorm(NDArray y, NDArray z, NDArray w, int groups, double eps, NDArray mask) {
        NDArray g = y.mul(silu(z));                                  // [..., I]
        Shape s = g.getShape();
        long inner = s.get(s.dimension() - 1);
        Shape grouped = s.slice(0, s.dimension() - 1).add(groups, inner / groups);
        NDArray gg = g.reshape(grouped);                              // [..., G, I/G]
        NDArray meanSq;
        if (mask == null) {
            meanSq = gg.square().mean(new int[] {-1}, true);
        } else {
            gg = gg.mul(mask.reshape(groups, inner / groups));
            NDArray active = mask.reshape(groups, inner / groups).sum(new int[] {-1}, true);   // [G, 1]
            meanSq = gg.square().sum(new int[] {-1}, true).div(active);
        }
        return gg.mul(invSqrt(meanSq, eps)).reshape(s).mul(w);
    }

    /** {@code (meanSq + eps)^(-1/2)}. */
    private static NDArray invSqrt(NDArray meanSq, double eps) {
        return Tensors.pow(Tensors.add(meanSq, eps), -0.5);
    }

    /** {@code x·sigmoid(x)}. */
    public static NDArray silu(NDArray x) {
        return x.mul(ai.djl.nn.Activation.sigmoid(x));
    }
}
