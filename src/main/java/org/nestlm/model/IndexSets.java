package org.nestlm.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Per elastic dimension, the source indices a derived model takes, in its order (docs/ARCHITECTURE.md §3.7):
 * full orders for the importance permutation, kept prefixes (per group) for a nested sub-model.
 * {@link TensorLayout#select} expands them into the rows and columns of every tensor.
 *
 * @param hidden residual channels [d_e*]
 * @param layers per source layer its index sets, or null for a dropped layer (absent from the target model)
 */
public record IndexSets(int[] hidden, List<Layer> layers) {

    public IndexSets {
        layers = Collections.unmodifiableList(new ArrayList<>(layers));   // null entries: dropped layers
    }

    /** The index sets of one layer; the record must match the layer's kind. */
    public sealed interface Layer permits Mamba, Attention, Mlp {
    }

    /**
     * @param heads    source Mamba heads [nh*]: dt rows, dt_bias, A_log, D
     * @param channels source channels within a head [hd*], the same for every head; with {@code heads} they give the
     *                 flat (head, channel) positions {@code heads[j]·hd + channels[d]} of z, x, the gated norm and
     *                 out_proj's columns
     */
    public record Mamba(int[] heads, int[] channels) implements Layer {
    }

    /** @param queryHeads source query heads [nH*], each a block of dh rows of q and columns of o */
    public record Attention(int[] queryHeads) implements Layer {
    }

    /** @param neurons source MLP neurons [F*] */
    public record Mlp(int[] neurons) implements Layer {
    }
}
