package org.nestlm.model;

/**
 * The dimensions of one layer. Read from tensor shapes when a checkpoint is loaded, so a sliced
 * (heterogeneous) checkpoint with per-layer widths loads as it is. The quantities that elastic
 * training never cuts (Mamba groups, state size, conv kernel) live in {@link ModelConfig}.
 */
public sealed interface LayerSpec {

    LayerKind kind();

    /** Parameters of this layer including its pre-mixer norm, for a residual stream of {@code hidden} channels. */
    long parameterCount(ModelConfig config, long hidden);

    /**
     * Mamba-2 mixer: {@code heads} heads of {@code headDim} channels, {@code I = heads·headDim}.
     * Heads must divide evenly into {@code n_groups} B/C groups.
     */
    record Mamba(int heads, int headDim) implements LayerSpec {
        public Mamba {
            if (heads <= 0 || headDim <= 0) {
                throw new IllegalArgumentException("Mamba layer needs positive heads and head_dim, got " + heads + " x " + headDim);
            }
        }

        public LayerKind kind() {
            return LayerKind.MAMBA;
        }

        /** I: width of x, z and the gated norm. */
        public int innerSize() {
            return heads * headDim;
        }

        /** Channels of the depthwise conv: {@code I + 2·G·N} (x | B | C). */
        public int convDim(ModelConfig c) {
            return innerSize() + 2 * c.nGroups() * c.ssmStateSize();
        }

        /** Rows of in_proj: {@code 2I + 2GN + nh} (z | x | B | C | dt). */
        public int inProjRows(ModelConfig c) {
            return 2 * innerSize() + 2 * c.nGroups() * c.ssmStateSize() + heads;
        }

        public long parameterCount(ModelConfig c, long hidden) {
            long i = innerSize();
            long conv = convDim(c);
            long p = hidden * inProjRows(c)                 // in_proj
                    + conv * c.convKernel()                 // conv1d.weight [conv_dim, 1, K]
                    + (c.useConvBias() ? conv : 0)          // conv1d.bias
                    + 3L * heads                            // dt_bias, A_log, D
                    + i                                     // gated norm weight
                    + i * hidden                            // out_proj
                    + hidden;                               // pre-mixer norm
            if (c.useBias()) {
                p += inProjRows(c) + hidden;                // in_proj.bias, out_proj.bias
            }
            return p;
        }
    }

    /** Causal GQA attention: {@code heads} query heads sharing {@code kvHeads} key/value heads of {@code headDim}. */
    record Attention(int heads, int kvHeads, int headDim) implements LayerSpec {
        public Attention {
            if (heads <= 0 || kvHeads <= 0 || headDim <= 0) {
                throw new IllegalArgumentException("attention layer needs positive heads, kv heads and head_dim");
            }
            if (heads % kvHeads != 0) {
                throw new IllegalArgumentException("num_attention_heads " + heads + " is not divisible by num_key_value_heads " + kvHeads);
            }
        }

        public LayerKind kind() {
            return LayerKind.ATTENTION;
        }

        /** Query heads per KV head (the GQA group size). */
        public int groupSize() {
            return heads / kvHeads;
        }

        public long parameterCount(ModelConfig c, long hidden) {
            long q = (long) heads * headDim;
            long kv = (long) kvHeads * headDim;
            long p = 2 * hidden * q + 2 * hidden * kv + hidden;   // q, o; k, v; norm
            if (c.attentionBias()) {
                p += q + 2 * kv + hidden;
            }
            return p;
        }
    }

    /** Squared-ReLU MLP: {@code down(relu(up(u))²)} with {@code width} neurons. */
    record Mlp(int width) implements LayerSpec {
        public Mlp {
            if (width <= 0) {
                throw new IllegalArgumentException("MLP layer needs a positive width, got " + width);
            }
        }

        public LayerKind kind() {
            return LayerKind.MLP;
        }

        public long parameterCount(ModelConfig c, long hidden) {
            long p = 2 * hidden * width + hidden;
            if (c.mlpBias()) {
                p += width + hidden;
            }
            return p;
        }
    }
}
