package org.nestlm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;

import java.util.ArrayList;
import java.util.List;

/** Squared-ReLU MLP, no gate: {@code down(relu(up(u))²)} (docs/ARCHITECTURE.md §4.5). */
public final class MlpMixer implements Mixer {

    private final LayerSpec.Mlp spec;
    private final Param up;       // [F, H]
    private final Param down;     // [H, F]
    private final Param upBias;   // [F] or null
    private final Param downBias; // [H] or null

    MlpMixer(LayerSpec.Mlp spec, Param up, Param down, Param upBias, Param downBias) {
        this.spec = spec;
        this.up = up;
        this.down = down;
        this.upBias = upBias;
        this.downBias = downBias;
    }

    public LayerSpec.Mlp spec() {
        return spec;
    }

    public List<Param> params() {
        List<Param> p = new ArrayList<>(List.of(up, down));
        if (upBias != null) {
            p.add(upBias);
            p.add(downBias);
        }
        return p;
    }

    public NDArray forward(NDArray u, LayerCache cache, LayerMask mask,
                           java.util.function.BiConsumer<ActivationProbe.Site, NDArray> probe) {
        NDArray pre = linear(u, up, upBias);                                   // [..., F]
        if (probe != null) {
            probe.accept(ActivationProbe.Site.MLP_PRE_ACTIVATION, pre);
        }
        NDArray hidden = LayerMask.apply(Activation.relu(pre).square(), mask.width());
        return LayerMask.apply(linear(hidden, down, downBias), mask.hidden());  // [..., H]
    }

    public NDArray step(NDArray u, LayerCache cache) {
        return forward(u, cache);
    }

    public LayerCache newCache(NDManager manager, int batch) {
        return LayerCache.None.INSTANCE;
    }

    /** {@code x·Wᵀ (+ b)}; the result belongs to x's manager. */
    static NDArray linear(NDArray x, Param w, Param bias) {
        return (bias == null ? Linear.linear(x, w.value()) : Linear.linear(x, w.value(), bias.value())).singletonOrThrow();
    }
}
