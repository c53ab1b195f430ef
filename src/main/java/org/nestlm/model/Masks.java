package org.nestlm.model;

import ai.djl.ndarray.NDArray;

import java.util.Arrays;

/**
 * Masks over every elastic axis of a whole model, for one forward pass: the hidden (embedding) channels,
 * and per layer its width, heads, depth gate — or a hard skip, where the layer is not computed at all
 * (the residual passes through, as in a model with the layer deleted).
 */
public final class Masks {

    private final NDArray hidden;      // [H] or null
    private final LayerMask[] layers;
    private final boolean[] skipped;

    private Masks(NDArray hidden, LayerMask[] layers, boolean[] skipped) {
        this.hidden = hidden;
        this.layers = layers;
        this.skipped = skipped;
    }

    /** No masking: the full model. */
    public static Masks none(int layers) {
        return builder(layers).build();
    }

    public static Builder builder(int layers) {
        return new Builder(layers);
    }

    public NDArray hidden() {
        return hidden;
    }

    public boolean skipped(int layer) {
        return skipped[layer];
    }

    /** The layer's masks with the shared hidden mask filled in. */
    public LayerMask layer(int i) {
        LayerMask l = layers[i];
        return new LayerMask(hidden, l.width(), l.heads(), l.keep());
    }

    public int layerCount() {
        return layers.length;
    }

    public static final class Builder {
        private NDArray hidden;
        private final LayerMask[] layers;
        private final boolean[] skipped;

        private Builder(int n) {
            layers = new LayerMask[n];
            Arrays.fill(layers, LayerMask.NONE);
            skipped = new boolean[n];
        }

        public Builder hidden(NDArray mask) {
            this.hidden = mask;
            return this;
        }

        public Builder layer(int i, NDArray width, NDArray heads, NDArray keep) {
            layers[i] = new LayerMask(null, width, heads, keep);
            return this;
        }

        public Builder skip(int i) {
            skipped[i] = true;
            return this;
        }

        public Masks build() {
            return new Masks(hidden, layers.clone(), skipped.clone());
        }
    }
}
