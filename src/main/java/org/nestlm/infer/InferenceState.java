package org.nestlm.infer;

import java.util.List;

/**
 * The decode state of one sequence across all layers: conv and SSM state per Mamba layer, a KV cache per
 * attention layer, and the number of tokens consumed. Plain Java memory; not thread-safe (one request, one
 * state).
 */
public final class InferenceState {

    private final LayerState[] layers;
    private int position;

    InferenceState(List<LayerState> layers) {
        this.layers = layers.toArray(new LayerState[0]);
    }

    private InferenceState(InferenceState o) {
        this.layers = new LayerState[o.layers.length];
        for (int i = 0; i < layers.length; i++) {
            layers[i] = o.layers[i].copy();
        }
        this.position = o.position;
    }

    LayerState layer(int i) {
        return layers[i];
    }

    /** Tokens consumed so far. */
    public int position() {
        return position;
    }

    void advance(int tokens) {
        position += tokens;
    }

    /** An independent copy: continuing it leaves this state unchanged. */
    public InferenceState copy() {
        return new InferenceState(this);
    }
}
