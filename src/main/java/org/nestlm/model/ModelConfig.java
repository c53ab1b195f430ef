package org.nestlm.model;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * A Nemotron-H {@code config.json} ({@code model_type = nemotron_h}), one component per key that the
 * Hugging Face config writes, named after the key (docs/ARCHITECTURE.md §2.1). {@link ConfigJson} binds it
 * from and back to JSON, accepting the constructor aliases ({@code mamba_n_groups}, {@code attention_head_dim}, …)
 * and every spelling of infinity in {@code time_step_limit}.
 *
 * <p>The global sizes describe a homogeneous model. A sliced checkpoint may differ per layer; its
 * per-layer sizes come from tensor shapes ({@link Architecture#fromShapes}).
 *
 * @param extra keys this record does not model (MoE fields, {@code torch_dtype}, Puzzle {@code block_configs}, …),
 *              kept so that a config survives a read-write round trip unchanged
 */
public record ModelConfig(
        List<String> architectures,
        String modelType,
        int vocabSize,                 // V: rows of embeddings and lm_head
        int hiddenSize,                // H: residual stream width
        int numHiddenLayers,           // = hybridOverridePattern.length()
        String hybridOverridePattern,  // one LayerKind symbol per layer
        int intermediateSize,          // MLP width
        String mlpHiddenAct,           // "relu2"
        boolean mlpBias,
        int numAttentionHeads,         // nH
        int numKeyValueHeads,          // nKV
        int headDim,                   // attention head dim; nH·headDim may differ from H
        boolean attentionBias,
        double attentionDropout,
        double hiddenDropout,
        int maxPositionEmbeddings,     // the context limit of generation (attention is NoPE)
        int mambaNumHeads,             // nh
        int mambaHeadDim,              // hd; I = nh·hd
        int ssmStateSize,              // N
        int nGroups,                   // G: B/C groups, nh % G == 0
        int convKernel,                // K
        int expand,                    // unused by the forward pass (I comes from heads·head_dim)
        int chunkSize,                 // SSD chunk length (changes rounding only)
        String mambaHiddenAct,         // "silu"
        boolean useConvBias,
        boolean useBias,               // bias of Mamba in_proj / out_proj
        boolean mambaProjBias,         // present in configs, read by no implementation
        double timeStepLimitMin,       // dt clamp, time_step_limit[0]
        double timeStepLimitMax,       // dt clamp, time_step_limit[1]; +Infinity = no clamp
        double timeStepMin,            // dt_bias initialisation range
        double timeStepMax,
        double timeStepFloor,
        String mambaSsmCacheDtype,     // "float32"
        double layerNormEpsilon,
        boolean residualInFp32,
        boolean tieWordEmbeddings,
        boolean rescalePrenormResidual,
        double initializerRange,
        boolean useCache,
        int padTokenId,
        int bosTokenId,
        int eosTokenId,
        Map<String, JsonNode> extra) {

    public static final String MODEL_TYPE = "nemotron_h";

    public ModelConfig {
        architectures = List.copyOf(architectures);
        extra = Collections.unmodifiableMap(new java.util.LinkedHashMap<>(extra));
    }

    /** The layer kinds of {@link #hybridOverridePattern()}, in order. */
    public List<LayerKind> layerKinds() {
        List<LayerKind> kinds = new ArrayList<>(hybridOverridePattern.length());
        for (char c : hybridOverridePattern.toCharArray()) {
            kinds.add(LayerKind.of(c));
        }
        return kinds;
    }

    /** I = nh·hd for the homogeneous Mamba layer. */
    public int mambaInnerSize() {
        return mambaNumHeads * mambaHeadDim;
    }

    /** Heads per B/C group of the homogeneous Mamba layer. */
    public int mambaHeadsPerGroup() {
        return mambaNumHeads / nGroups;
    }

    /** True when dt is clamped at all (the default {@code [0, +inf]} never changes a softplus output). */
    public boolean clampsTimeStep() {
        return timeStepLimitMin > 0.0 || timeStepLimitMax != Double.POSITIVE_INFINITY;
    }

    /** The homogeneous layer spec for a layer of the given kind. */
    public LayerSpec defaultLayer(LayerKind kind) {
        return switch (kind) {
            case MAMBA -> new LayerSpec.Mamba(mambaNumHeads, mambaHeadDim);
            case ATTENTION -> new LayerSpec.Attention(numAttentionHeads, numKeyValueHeads, headDim);
            case MLP -> new LayerSpec.Mlp(intermediateSize);
            case MOE -> throw new UnsupportedOperationException(
                    "mixture-of-experts layers ('E', Nemotron-3) are not supported by nestlm");
        };
    }

    /**
     * A copy with other global sizes, each set by its component's name and the rest kept:
     * {@code c.resized().vocabSize(8192).build()}. Presets and slices use it; the pattern fixes the layer count.
     */
    public Resized resized() {
        return new Resized(this);
    }

    /** The global sizes of a {@link ModelConfig} being changed; {@link #build()} makes the copy. */
    public static final class Resized {
        private final ModelConfig from;
        private int vocabSize;
        private int hiddenSize;
        private String hybridOverridePattern;
        private int intermediateSize;
        private int numAttentionHeads;
        private int numKeyValueHeads;
        private int headDim;
        private int mambaNumHeads;
        private int mambaHeadDim;
        private int ssmStateSize;
        private int nGroups;
        private int convKernel;
        private int chunkSize;

        private Resized(ModelConfig c) {
            from = c;
            vocabSize = c.vocabSize;
            hiddenSize = c.hiddenSize;
            hybridOverridePattern = c.hybridOverridePattern;
            intermediateSize = c.intermediateSize;
            numAttentionHeads = c.numAttentionHeads;
            numKeyValueHeads = c.numKeyValueHeads;
            headDim = c.headDim;
            mambaNumHeads = c.mambaNumHeads;
            mambaHeadDim = c.mambaHeadDim;
            ssmStateSize = c.ssmStateSize;
            nGroups = c.nGroups;
            convKernel = c.convKernel;
            chunkSize = c.chunkSize;
        }

        public Resized vocabSize(int v) { vocabSize = v; return this; }

        public Resized hiddenSize(int v) { hiddenSize = v; return this; }

        public Resized hybridOverridePattern(String v) { hybridOverridePattern = v; return this; }

        public Resized intermediateSize(int v) { intermediateSize = v; return this; }

        public Resized numAttentionHeads(int v) { numAttentionHeads = v; return this; }

        public Resized numKeyValueHeads(int v) { numKeyValueHeads = v; return this; }

        public Resized headDim(int v) { headDim = v; return this; }

        public Resized mambaNumHeads(int v) { mambaNumHeads = v; return this; }

        public Resized mambaHeadDim(int v) { mambaHeadDim = v; return this; }

        public Resized ssmStateSize(int v) { ssmStateSize = v; return this; }

        public Resized nGroups(int v) { nGroups = v; return this; }

        public Resized convKernel(int v) { convKernel = v; return this; }

        public Resized chunkSize(int v) { chunkSize = v; return this; }

        public ModelConfig build() {
            ModelConfig c = from;
            return new ModelConfig(c.architectures, c.modelType, vocabSize, hiddenSize, hybridOverridePattern.length(),
                    hybridOverridePattern, intermediateSize, c.mlpHiddenAct, c.mlpBias, numAttentionHeads, numKeyValueHeads,
                    headDim, c.attentionBias, c.attentionDropout, c.hiddenDropout, c.maxPositionEmbeddings, mambaNumHeads,
                    mambaHeadDim, ssmStateSize, nGroups, convKernel, c.expand, chunkSize, c.mambaHiddenAct, c.useConvBias,
                    c.useBias, c.mambaProjBias, c.timeStepLimitMin, c.timeStepLimitMax, c.timeStepMin, c.timeStepMax,
                    c.timeStepFloor, c.mambaSsmCacheDtype, c.layerNormEpsilon, c.residualInFp32, c.tieWordEmbeddings,
                    c.rescalePrenormResidual, c.initializerRange, c.useCache, c.padTokenId, c.bosTokenId, c.eosTokenId,
                    c.extra);
        }
    }

    /**
     * Checks the constraints the forward pass relies on.
     *
     * @param source the file the config came from, named in every message
     * @throws IllegalArgumentException naming the file and the field
     */
    public ModelConfig validate(String source) {
        String where = source + ": ";
        if (modelType != null && !modelType.equals(MODEL_TYPE) && !modelType.equals("nemotron_h_puzzle")) {
            throw new IllegalArgumentException(where + "model_type is '" + modelType + "', expected 'nemotron_h'");
        }
        if (hybridOverridePattern == null || hybridOverridePattern.isEmpty()) {
            throw new IllegalArgumentException(where + "hybrid_override_pattern is missing or empty");
        }
        for (int i = 0; i < hybridOverridePattern.length(); i++) {
            char c = hybridOverridePattern.charAt(i);
            if ("M*-E".indexOf(c) < 0) {
                throw new IllegalArgumentException(where + "hybrid_override_pattern has unknown layer type '" + c
                        + "' at layer " + i + " (expected M, *, - or E)");
            }
            if (c == 'E') {
                throw new IllegalArgumentException(where + "hybrid_override_pattern has a mixture-of-experts layer 'E' at layer "
                        + i + "; Nemotron-3 MoE models are not supported");
            }
        }
        if (numHiddenLayers != hybridOverridePattern.length()) {
            throw new IllegalArgumentException(where + "num_hidden_layers is " + numHiddenLayers
                    + " but hybrid_override_pattern has " + hybridOverridePattern.length() + " layers");
        }
        positive(where, "vocab_size", vocabSize);
        positive(where, "hidden_size", hiddenSize);
        // the context limit of generation and serving; 0 or less would silently remove it
        positive(where, "max_position_embeddings", maxPositionEmbeddings);
        String kinds = hybridOverridePattern;
        if (kinds.indexOf('M') >= 0) {
            positive(where, "mamba_num_heads", mambaNumHeads);
            positive(where, "mamba_head_dim", mambaHeadDim);
            positive(where, "ssm_state_size", ssmStateSize);
            positive(where, "n_groups", nGroups);
            positive(where, "conv_kernel", convKernel);
            positive(where, "chunk_size", chunkSize);
            // channel counts are ints everywhere downstream: conv1d has I + 2·G·N channels, in_proj 2·I + 2·G·N + nh rows
            long inner = (long) mambaNumHeads * mambaHeadDim;
            long groupState = (long) nGroups * ssmStateSize;
            fitsInt(where, "mamba_num_heads · mamba_head_dim", inner);
            fitsInt(where, "n_groups · ssm_state_size", groupState);
            fitsInt(where, "the Mamba in_proj rows (2·mamba_num_heads·mamba_head_dim + 2·n_groups·ssm_state_size"
                    + " + mamba_num_heads)", 2 * inner + 2 * groupState + mambaNumHeads);
            if (mambaNumHeads % nGroups != 0) {
                throw new IllegalArgumentException(where + "mamba_num_heads " + mambaNumHeads
                        + " is not divisible by n_groups " + nGroups);
            }
            if (mambaHiddenAct != null && !mambaHiddenAct.equals("silu")) {
                throw new IllegalArgumentException(where + "mamba_hidden_act '" + mambaHiddenAct + "' is not supported (only silu)");
            }
            if (!(timeStepLimitMin <= timeStepLimitMax)) {
                throw new IllegalArgumentException(where + "time_step_limit [" + timeStepLimitMin + ", " + timeStepLimitMax
                        + "] is not an interval");
            }
        }
        if (kinds.indexOf('*') >= 0) {
            positive(where, "num_attention_heads", numAttentionHeads);
            positive(where, "num_key_value_heads", numKeyValueHeads);
            positive(where, "head_dim", headDim);
            fitsInt(where, "num_attention_heads · head_dim", (long) numAttentionHeads * headDim);
            if (numAttentionHeads % numKeyValueHeads != 0) {
                throw new IllegalArgumentException(where + "num_attention_heads " + numAttentionHeads
                        + " is not divisible by num_key_value_heads " + numKeyValueHeads);
            }
        }
        if (kinds.indexOf('-') >= 0) {
            positive(where, "intermediate_size", intermediateSize);
            if (mlpHiddenAct != null && !mlpHiddenAct.equals("relu2")) {
                throw new IllegalArgumentException(where + "mlp_hidden_act '" + mlpHiddenAct + "' is not supported (only relu2)");
            }
        }
        if (!(layerNormEpsilon > 0) || Double.isInfinite(layerNormEpsilon)) {
            throw new IllegalArgumentException(where + "layer_norm_epsilon must be positive and finite, got " + layerNormEpsilon);
        }
        return this;
    }

    private static void fitsInt(String where, String what, long value) {
        if (value > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(where + what + " = " + value + " is too large (more than "
                    + Integer.MAX_VALUE + " channels)");
        }
    }

    private static void positive(String where, String field, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(where + field + " must be positive, got " + value);
        }
    }
}
