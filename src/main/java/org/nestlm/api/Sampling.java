package org.nestlm.api;

import java.util.List;

/**
 * How tokens are picked and when generation stops. Greedy (argmax) when the temperature is 0; otherwise
 * temperature → top-k → softmax → top-p → a draw from the generator seeded with {@code seed}, so a fixed seed
 * gives the same text again.
 *
 * @param maxTokens   most tokens to generate (≥ 0)
 * @param temperature 0 = greedy; otherwise logits are divided by it before the softmax (finite, ≥ 0)
 * @param topK        keep only the k most likely tokens; 0 = all
 * @param topP        nucleus mass in (0, 1]; 1 = all
 * @param seed        seed of the sampler; null = a fresh random seed per call
 * @param stop        strings that end the generation; the text is cut before the first one found
 * @param ignoreEos   keep going after the end-of-sequence token
 */
public record Sampling(int maxTokens, double temperature, int topK, double topP, Long seed, List<String> stop,
                       boolean ignoreEos) {

    /** Tokens generated when nothing else is said (as {@code nestlm generate}). */
    public static final int DEFAULT_MAX_TOKENS = 64;

    public Sampling {
        stop = stop == null ? List.of() : List.copyOf(stop);
    }

    /** Greedy decoding of at most 64 tokens, stopping at the end-of-sequence token. */
    public static Sampling defaults() {
        return new Sampling(DEFAULT_MAX_TOKENS, 0, 0, 1, null, List.of(), false);
    }

    /** Greedy decoding of at most {@code maxTokens} tokens. */
    public static Sampling greedy(int maxTokens) {
        return defaults().withMaxTokens(maxTokens);
    }

    public Sampling withMaxTokens(int n) {
        return new Sampling(n, temperature, topK, topP, seed, stop, ignoreEos);
    }

    public Sampling withTemperature(double t) {
        return new Sampling(maxTokens, t, topK, topP, seed, stop, ignoreEos);
    }

    public Sampling withTopK(int k) {
        return new Sampling(maxTokens, temperature, k, topP, seed, stop, ignoreEos);
    }

    public Sampling withTopP(double p) {
        return new Sampling(maxTokens, temperature, topK, p, seed, stop, ignoreEos);
    }

    public Sampling withSeed(Long s) {
        return new Sampling(maxTokens, temperature, topK, topP, s, stop, ignoreEos);
    }

    public Sampling withStop(List<String> strings) {
        return new Sampling(maxTokens, temperature, topK, topP, seed, strings, ignoreEos);
    }

    public Sampling withIgnoreEos(boolean ignore) {
        return new Sampling(maxTokens, temperature, topK, topP, seed, stop, ignore);
    }
}
