package org.nestlm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import java.util.List;

/** The one mixer of a layer, applied to the normalised residual stream. */
public sealed interface Mixer permits Mamba2Mixer, AttentionMixer, MlpMixer {

    LayerSpec spec();

    /** Weights of this mixer (the layer's pre-norm belongs to {@link NemotronH}). */
    List<Param> params();

    /**
     * Full or chunked prefill. u [b, L, H] → [b, L, H]. With a cache, the sequence continues the cached one
     * and the cache is advanced past it; with {@code null} the sequence starts from an empty state.
     */
    default NDArray forward(NDArray u, LayerCache cache) {
        return forward(u, cache, LayerMask.NONE, null);
    }

    /**
     * Masked prefill (elastic training, importance, nested sub-models from full weights): the layer computes
     * exactly what the cut-out sub-model computes when the masks are prefix masks over importance-sorted
     * weights. {@code probe} receives this layer's intermediate activations; null when nobody listens, and then
     * the layer builds no tensor only a probe would need.
     */
    NDArray forward(NDArray u, LayerCache cache, LayerMask mask, java.util.function.BiConsumer<ActivationProbe.Site, NDArray> probe);

    /** Recurrent decode of one token per sequence. u [b, H] → [b, H]; the cache is advanced by one token. */
    NDArray step(NDArray u, LayerCache cache);

    /** An empty cache for a batch of {@code batch} sequences. */
    LayerCache newCache(NDManager manager, int batch);
}
