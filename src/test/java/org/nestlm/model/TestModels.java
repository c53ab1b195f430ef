package org.nestlm.model;

/** Small configs that exercise the easy-to-miss cases of docs/ARCHITECTURE.md §7. */
public final class TestModels {

    private TestModels() {
    }

    /**
     * All three layer types; G = 2 groups; I = 6·10 = 60 ≠ 2·H; attention nH·hd = 6·12 = 72 ≠ H = 48;
     * chunk 16 so that test sequences are longer than a chunk.
     */
    public static ModelConfig hybrid() {
        return Presets.get("tiny").withSizes(96, 48, "M*-M-*M", 80, 6, 2, 12, 6, 10, 8, 2, 4, 16);
    }

    /** The same with Mamba heads in 3 groups and a different chunk size. */
    public static ModelConfig hybrid(int groups, int chunk) {
        return Presets.get("tiny").withSizes(96, 48, "M*-M-*M", 80, 6, 2, 12, 6, 10, 8, groups, 4, chunk);
    }
}
