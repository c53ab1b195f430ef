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
        return Presets.get("tiny").resized()
                .vocabSize(96).hiddenSize(48).hybridOverridePattern("M*-M-*M").intermediateSize(80)
                .numAttentionHeads(6).numKeyValueHeads(2).headDim(12)
                .mambaNumHeads(6).mambaHeadDim(10).ssmStateSize(8).nGroups(2).convKernel(4).chunkSize(16)
                .build();
    }

    /** The same with Mamba heads in 3 groups and a different chunk size. */
    public static ModelConfig hybrid(int groups, int chunk) {
        return hybrid().resized().nGroups(groups).chunkSize(chunk).build();
    }
}
