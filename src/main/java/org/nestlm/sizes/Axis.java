package org.nestlm.sizes;

import java.util.Locale;

/**
 * The elastic axes a nested size is chosen on (docs/METHOD.md §4): the residual width, the MLP widths, the Mamba
 * heads per group, the query heads per KV group and the number of layers removed. The router has one small network
 * per axis; its weights are named {@code router.<key>.w1} and {@code router.<key>.w2}.
 */
public enum Axis {
    HIDDEN, MLP, MAMBA, ATTENTION, DEPTH;

    /** The axis's name in router weight names: {@code hidden}, {@code mlp}, … */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }
}
