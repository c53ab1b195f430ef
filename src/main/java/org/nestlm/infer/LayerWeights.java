package org.nestlm.infer;

import org.nestlm.model.LayerSpec;

/**
 * The weights of one layer as the engine uses them: projections stay mapped ({@link WeightMatrix}); the
 * small per-channel vectors are widened to float[] at load. {@code norm} is the layer's pre-mixer RMSNorm
 * weight [H]. Biases are null when the config has none.
 */
sealed interface LayerWeights {

    LayerSpec spec();

    float[] norm();

    /** Bytes of mapped weights one token reads in this layer. */
    long matrixBytes();

    /** Mamba-2 (docs/ARCHITECTURE.md §3.3, §4.2). */
    record Mamba(LayerSpec.Mamba spec,
                 float[] norm,          // [H]
                 WeightMatrix inProj,   // [2I + 2GN + nh, H]: z | x | B | C | dt
                 float[] inBias,        // [2I + 2GN + nh] or null
                 float[] convW,         // [K·C], C = I + 2GN, tap-major: convW[k·C + c] (the file stores [C, 1, K])
                 float[] convB,         // [C] or null
                 float[] dtBias,        // [nh]
                 float[] a,             // [nh], A = −exp(A_log), computed once at load
                 float[] d,             // [nh]
                 float[] gatedNorm,     // [I]
                 WeightMatrix outProj,  // [H, I]
                 float[] outBias)       // [H] or null
            implements LayerWeights {
        public long matrixBytes() {
            return inProj.byteSize() + outProj.byteSize();
        }
    }

    /** Causal GQA attention without positional encoding (§4.4). */
    record Attention(LayerSpec.Attention spec,
                     float[] norm,      // [H]
                     WeightMatrix q,    // [nH·hd, H]
                     WeightMatrix k,    // [nKV·hd, H]
                     WeightMatrix v,    // [nKV·hd, H]
                     WeightMatrix o,    // [H, nH·hd]
                     float[] qBias, float[] kBias, float[] vBias, float[] oBias)
            implements LayerWeights {
        public long matrixBytes() {
            return q.byteSize() + k.byteSize() + v.byteSize() + o.byteSize();
        }
    }

    /** relu² MLP (§4.5). */
    record Mlp(LayerSpec.Mlp spec,
               float[] norm,            // [H]
               WeightMatrix up,         // [W, H]
               WeightMatrix down,       // [H, W]
               float[] upBias, float[] downBias)
            implements LayerWeights {
        public long matrixBytes() {
            return up.byteSize() + down.byteSize();
        }
    }
}
