package org.nestlm.model;

/**
 * The mixer of one Nemotron-H layer, one character of {@code hybrid_override_pattern}.
 * Every layer is {@code h = h + mixer(RMSNorm(h))}: exactly one mixer per layer.
 */
public enum LayerKind {
    /** {@code M}: Mamba-2 selective state-space mixer. */
    MAMBA('M'),
    /** {@code *}: causal grouped-query attention with no positional encoding. */
    ATTENTION('*'),
    /** {@code -}: squared-ReLU MLP. */
    MLP('-'),
    /** {@code E}: mixture of experts (Nemotron-3 only; recognised so that it can be rejected clearly). */
    MOE('E');

    private final char symbol;

    LayerKind(char symbol) {
        this.symbol = symbol;
    }

    public char symbol() {
        return symbol;
    }

    /** @throws IllegalArgumentException for a character that is not a layer type */
    public static LayerKind of(char c) {
        for (LayerKind k : values()) {
            if (k.symbol == c) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown layer type '" + c + "' (expected M, *, - or E)");
    }
}
