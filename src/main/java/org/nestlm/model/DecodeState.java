package org.nestlm.model;

import ai.djl.ndarray.NDManager;

import java.util.List;

/**
 * The recurrent state of a batch of sequences across all layers: conv and SSM state per Mamba layer,
 * a KV cache per attention layer. Owns its native memory; close it when the sequence ends.
 */
public final class DecodeState implements AutoCloseable {

    private final NDManager manager;
    private final List<LayerCache> layers;
    private long position;   // tokens consumed so far

    DecodeState(NDManager manager, List<LayerCache> layers) {
        this.manager = manager;
        this.layers = List.copyOf(layers);
    }

    public LayerCache layer(int i) {
        return layers.get(i);
    }

    public int layerCount() {
        return layers.size();
    }

    /** Number of tokens already consumed. */
    public long position() {
        return position;
    }

    void advance(long tokens) {
        position += tokens;
    }

    NDManager manager() {
        return manager;
    }

    @Override
    public void close() {
        manager.close();
    }
}
