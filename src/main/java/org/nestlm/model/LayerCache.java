package org.nestlm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * Per-layer decode state of one batch of sequences (docs/ARCHITECTURE.md §4.7). Arrays live in the
 * manager of the owning {@link DecodeState}; an update closes the array it replaces.
 */
public sealed interface LayerCache {

    /**
     * Mamba-2: the last K conv inputs (pre-activation x|B|C, oldest first) and the fp32 SSM state.
     * Both start at zero; a chunked prefill carries them into the next piece.
     */
    final class Mamba implements LayerCache {
        private final NDManager manager;
        NDArray convState;   // [b, conv_dim, K]
        NDArray ssmState;    // [b, nh, hd, N]

        Mamba(NDManager manager, NDArray convState, NDArray ssmState) {
            this.manager = manager;
            this.convState = convState;
            this.ssmState = ssmState;
        }

        public NDArray convState() {
            return convState;
        }

        public NDArray ssmState() {
            return ssmState;
        }

        void update(NDArray conv, NDArray ssm) {
            convState = replace(manager, convState, conv);
            ssmState = replace(manager, ssmState, ssm);
        }
    }

    /** Attention: keys and values of every position so far (no rotation: the model has no positional encoding). */
    final class KeyValue implements LayerCache {
        private final NDManager manager;
        NDArray keys;     // [b, nKV, T, hd], null before the first token
        NDArray values;   // [b, nKV, T, hd]

        KeyValue(NDManager manager) {
            this.manager = manager;
        }

        public long length() {
            return keys == null ? 0 : keys.getShape().get(2);
        }

        void update(NDArray k, NDArray v) {
            keys = replace(manager, keys, k);
            values = replace(manager, values, v);
        }
    }

    /** MLP layers keep no state. */
    final class None implements LayerCache {
        static final None INSTANCE = new None();

        private None() {
        }
    }

    private static NDArray replace(NDManager manager, NDArray old, NDArray next) {
        next.attach(manager);
        if (old != null && old != next) {
            old.close();
        }
        return next;
    }
}
