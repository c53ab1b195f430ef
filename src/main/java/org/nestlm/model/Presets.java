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
        // 204,824 parameters: vocab 512, hidden 64, M-*-M-, Mamba 4 x 16 (1 group, N 16), attention 4/1 x 16, MLP 256.
        PRESETS.put("tiny", base().withSizes(512, 64, "M-*-M-", 256, 4, 1, 16, 4, 16, 16, 1, 4, 64));
        PRESETS.put("mini", base().withSizes(4096, 128, "M-M*-M-M*-M-", 512, 4, 2, 32, 8, 32, 32, 2, 4, 64));   // 2,393,464 parameters: the reference demo plan's parent
        // 7,208,440 parameters: vocab 4096, hidden 256, M-M*-M-M*-M-, Mamba 8 x 64 (2 groups, N 32), attention 8/2 x 32, MLP 1024.
        PRESETS.put("small", base().withSizes(4096, 256, "M-M*-M-M*-M-", 1024, 8, 2, 32, 8, 64, 32, 2, 4, 64));
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
    private static ModelConfig base() {
        return ConfigJson.fromJson(ConfigJson.MAPPER.createObjectNode().put("hybrid_override_pattern", "M"))
                .withSizes(512, 64, "M", 256, 4, 1, 16, 4, 16, 16, 1, 4, 64);
    }
}
