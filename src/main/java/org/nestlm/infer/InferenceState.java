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

    private int traceFrom = -1;   // position where the trace began; −1 when not tracing

    /**
     * Starts remembering every Mamba layer's state after each token from here on, so that
     * {@link #rollback} can undo tokens (speculative decoding: keep only the verified prefix). Costs one copy
     * of the conv and SSM state per token and Mamba layer until {@link #endTrace}.
     */
    public void beginTrace() {
        traceFrom = position;
        for (LayerState l : layers) {
            if (l instanceof LayerState.Mamba m) {
                m.beginTrace();
            }
        }
    }

    /**
     * Forgets the tokens after {@code newPosition}: Mamba layers take their traced state, KV caches drop the
     * positions. Ends the trace.
     *
     * @throws IllegalStateException outside a trace, or before its start
     */
    public void rollback(int newPosition) {
        if (traceFrom < 0 || newPosition < traceFrom || newPosition > position) {
            throw new IllegalStateException("cannot roll back to " + newPosition + " (trace from " + traceFrom + ", at " + position + ")");
        }
        for (LayerState l : layers) {
            switch (l) {
                case LayerState.Mamba m -> m.restore(newPosition - traceFrom);
                case LayerState.KeyValue kv -> kv.length = newPosition;
                case LayerState.None n -> { }
            }
        }
        position = newPosition;
        endTrace();
    }

    /** Stops tracing and frees the traced states. */
    public void endTrace() {
        traceFrom = -1;
        for (LayerState l : layers) {
            if (l instanceof LayerState.Mamba m) {
                m.endTrace();
            }
        }
    }

    /** An independent copy: continuing it leaves this state unchanged. */
    public InferenceState copy() {
        return new InferenceState(this);
    }
}
