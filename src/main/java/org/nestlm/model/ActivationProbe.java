package org.nestlm.model;

import ai.djl.ndarray.NDArray;

/**
 * Receives intermediate activations during a forward pass, for importance estimation (forward passes
 * only). Arrays belong to the forward pass's manager and are valid until it closes.
 */
@FunctionalInterface
public interface ActivationProbe {

    /** Where in a layer an activation is observed. */
    enum Site {
        /** Output of the layer's pre-mixer RMSNorm, u [b, L, H] (embedding-channel importance). */
        PRE_MIXER_NORM,
        /** MLP pre-activation up(u) [b, L, F] (neuron importance, docs/METHOD.md §2.2). */
        MLP_PRE_ACTIVATION,
        /** Attention context per query head, the o_proj input, [b, L, nH, hd] (head importance). */
        ATTENTION_CONTEXT,
        /** Mamba x branch of in_proj, before the conv, [b, L, nh, hd] (head-channel and head importance, Eqs 3–4). */
        MAMBA_X
    }

    void observe(int layer, Site site, NDArray activation);

    ActivationProbe NONE = (layer, site, activation) -> { };
}
