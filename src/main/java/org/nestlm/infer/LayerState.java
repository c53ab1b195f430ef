package org.nestlm.infer;

import java.util.Arrays;

/** The recurrent state one layer keeps for one sequence (docs/ARCHITECTURE.md §4.7). */
sealed interface LayerState {

    /** A deep copy (for forking a sequence, e.g. a shared prompt). */
    LayerState copy();

    /**
     * Mamba-2: the last K conv inputs (pre-activation x|B|C, oldest first) and the fp32 SSM state. Both start
     * at zero, which is exactly the zero left-padding of the causal conv and the empty scan.
     */
    final class Mamba implements LayerState {
        final int convDim, kernel;   // C = I + 2GN, K
        final float[] conv;          // [K, C]: conv[k·C + c], k = K−1 the newest input (a roll is one copy)
        final float[] ssm;           // [nh, N, hd]: ssm[(h·N + n)·hd + p], channels innermost for the SIMD scan
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

        /** The state as it is now, as the first traced point. */
        private void record() {
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

    /**
     * Attention: keys and values of every position so far, grown by doubling. Keys are feature-major, so the
     * scores of one query head are hd runs over positions (no per-position reduction); values are
     * position-major, so the output is a run over features per position.
     */
    final class KeyValue implements LayerState {
        final int width;   // nKV·hd
        float[] keys;      // [nKV·hd, capacity]: keys[f·capacity + pos]
        float[] values;    // [capacity, nKV·hd]: values[pos·width + f]
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

        /** Positions the arrays hold room for. */
        int capacity() {
            return values.length / width;
        }

        /**
         * Appends {@code n} positions, rows {@code [row, row + n)} of k and v ([·, nKV·hd], position-major, as the
         * projections give them).
         */
        void append(float[] k, float[] v, int row, int n) {
            reserve(n);
            int cap = capacity();
            for (int t = 0; t < n; t++) {
                for (int f = 0; f < width; f++) {
                    keys[f * cap + length + t] = k[(row + t) * width + f];
                }
            }
            System.arraycopy(v, row * width, values, length * width, n * width);
            length += n;
        }

        /** Makes room for {@code more} further positions. */
        private void reserve(int more) {
            int cap = capacity();
            long need = (long) length + more;
            if (need > cap) {
                long grown = Math.max(need, 2L * cap);
                if (grown * width > Integer.MAX_VALUE - 8) {
                    throw new IllegalStateException("KV cache of " + (length + more) + " positions is too large");
                }
                int newCap = (int) grown;
                float[] k = new float[width * newCap];
                for (int f = 0; f < width; f++) {
                    System.arraycopy(keys, f * cap, k, f * newCap, length);
                }
                keys = k;
                values = Arrays.copyOf(values, width * newCap);
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
