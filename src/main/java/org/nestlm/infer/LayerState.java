package org.nestlm.infer;

import java.util.Arrays;

/** The recurrent state one layer keeps for one sequence (NEMOTRON_H_FORMAT.md §4.7). */
sealed interface LayerState {

    /** A deep copy (for forking a sequence, e.g. a shared prompt). */
    LayerState copy();

    /**
     * Mamba-2: the last K conv inputs (pre-activation x|B|C, oldest first) and the fp32 SSM state. Both start
     * at zero, which is exactly the zero left-padding of the causal conv and the empty scan.
     */
    final class Mamba implements LayerState {
        final int convDim, kernel;   // C = I + 2GN, K
        final float[] conv;          // [C, K]: conv[c·K + k], k = K−1 the newest input
        final float[] ssm;           // [nh, hd, N]
        // While tracing (speculative verification): the state after each consumed token, oldest first, and the
        // state before the first, so the layer can be put back to any point of the traced span.
        java.util.List<float[]> convTrace, ssmTrace;

        Mamba(int convDim, int kernel, int heads, int headDim, int stateSize) {
            this.convDim = convDim;
            this.kernel = kernel;
            this.conv = new float[convDim * kernel];
            this.ssm = new float[heads * headDim * stateSize];
        }

        private Mamba(Mamba o) {
            this.convDim = o.convDim;
            this.kernel = o.kernel;
            this.conv = o.conv.clone();
            this.ssm = o.ssm.clone();
        }

        public Mamba copy() {
            return new Mamba(this);
        }

        void beginTrace() {
            convTrace = new java.util.ArrayList<>();
            ssmTrace = new java.util.ArrayList<>();
            record();
        }

        /** Called by the engine after each token while tracing. */
        void record() {
            convTrace.add(conv.clone());
            ssmTrace.add(ssm.clone());
        }

        /** Back to the state after {@code tokens} tokens of the traced span (0 = before the first). */
        void restore(int tokens) {
            System.arraycopy(convTrace.get(tokens), 0, conv, 0, conv.length);
            System.arraycopy(ssmTrace.get(tokens), 0, ssm, 0, ssm.length);
        }

        void endTrace() {
            convTrace = null;
            ssmTrace = null;
        }
    }

    /** Attention: keys and values of every position so far, token-major, grown by doubling. */
    final class KeyValue implements LayerState {
        final int width;   // nKV·hd
        float[] keys;      // [capacity, nKV·hd]
        float[] values;    // [capacity, nKV·hd]
        int length;        // positions held

        KeyValue(int width, int initialCapacity) {
            this.width = width;
            this.keys = new float[width * Math.max(1, initialCapacity)];
            this.values = new float[width * Math.max(1, initialCapacity)];
        }

        private KeyValue(KeyValue o) {
            this.width = o.width;
            this.keys = Arrays.copyOf(o.keys, o.keys.length);
            this.values = Arrays.copyOf(o.values, o.values.length);
            this.length = o.length;
        }

        /** Makes room for {@code more} further positions. */
        void reserve(int more) {
            long need = (long) (length + more) * width;
            if (need > keys.length) {
                long cap = Math.max(need, 2L * keys.length);
                if (cap > Integer.MAX_VALUE - 8) {
                    throw new IllegalStateException("KV cache of " + (length + more) + " positions is too large");
                }
                keys = Arrays.copyOf(keys, (int) cap);
                values = Arrays.copyOf(values, (int) cap);
            }
        }

        public KeyValue copy() {
            return new KeyValue(this);
        }
    }

    /** MLP layers keep nothing. */
    enum None implements LayerState {
        INSTANCE;

        public None copy() {
            return this;
        }
    }
}
