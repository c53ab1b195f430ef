package org.nestlm.model;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Named model sizes for {@code nestlm init --preset}. {@code tiny} and {@code small} are exactly the
 * {@code bench-tiny} and {@code bench-small} configs of the PyTorch reference benchmark
 * ({@code torch_bench.py}, kept outside this repository), so speed comparisons run on identical models. Both use all three layer types.
 */
public final class Presets {

    private static final Map<String, ModelConfig> PRESETS = new LinkedHashMap<>();

    static {
        // 204,824 parameters.
        PRESETS.put("tiny", base()
                .vocabSize(512).hiddenSize(64).hybridOverridePattern("M-*-M-").intermediateSize(256)
                .numAttentionHeads(4).numKeyValueHeads(1).headDim(16)
                .mambaNumHeads(4).mambaHeadDim(16).ssmStateSize(16).nGroups(1).convKernel(4).chunkSize(64)
                .build());
        // 2,393,464 parameters: the reference demo plan's parent.
        PRESETS.put("mini", base()
                .vocabSize(4096).hiddenSize(128).hybridOverridePattern("M-M*-M-M*-M-").intermediateSize(512)
                .numAttentionHeads(4).numKeyValueHeads(2).headDim(32)
                .mambaNumHeads(8).mambaHeadDim(32).ssmStateSize(32).nGroups(2).convKernel(4).chunkSize(64)
                .build());
        // 7,208,440 parameters.
        PRESETS.put("small", base()
                .vocabSize(4096).hiddenSize(256).hybridOverridePattern("M-M*-M-M*-M-").intermediateSize(1024)
                .numAttentionHeads(8).numKeyValueHeads(2).headDim(32)
                .mambaNumHeads(8).mambaHeadDim(64).ssmStateSize(32).nGroups(2).convKernel(4).chunkSize(64)
                .build());
    }

    private Presets() {
    }

    public static Set<String> names() {
        return PRESETS.keySet();
    }

    /** @throws IllegalArgumentException listing the known presets */
    public static ModelConfig get(String name) {
        ModelConfig c = PRESETS.get(name);
        if (c == null) {
            throw new IllegalArgumentException("unknown preset '" + name + "'; known presets: " + String.join(", ", names()));
        }
        return c;
    }

    /** Nemotron-H defaults for everything the presets do not set (config.json as the HF classes write it). */
    private static ModelConfig.Resized base() {
        return ConfigJson.fromJson(ConfigJson.MAPPER.createObjectNode().put("hybrid_override_pattern", "M")).resized();
    }
}
