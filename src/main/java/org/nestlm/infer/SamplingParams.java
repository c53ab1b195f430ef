package org.nestlm.infer;

import java.util.List;

/**
 * How to pick tokens and when to stop.
 *
 * @param maxTokens   most tokens to generate (≥ 0)
 * @param temperature 0 = greedy (argmax); otherwise logits are divided by it before the softmax
 * @param topK        keep only the k most likely tokens; 0 = all
 * @param topP        nucleus: keep the smallest set of most likely tokens whose probability reaches p; 1 = all
 * @param seed        seed of the sampler's generator; null = a fresh random seed
 * @param stop        strings that end the generation; the text is cut before the first one found
 * @param ignoreEos   keep going after the end-of-sequence token ({@code eos_token_id})
 */
public record SamplingParams(int maxTokens, double temperature, int topK, double topP, Long seed, List<String> stop,
                             boolean ignoreEos) {

    public SamplingParams {
        stop = stop == null ? List.of() : List.copyOf(stop);
        if (maxTokens < 0) {
            throw new IllegalArgumentException("max_tokens must be ≥ 0, got " + maxTokens);
        }
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number ≥ 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top_k must be ≥ 0, got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP);
        }
        for (String s : stop) {
            if (s == null || s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must not be empty");
            }
        }
    }

    /** Argmax decoding of exactly {@code maxTokens} tokens (the end-of-sequence token does not stop it). */
    public static SamplingParams greedy(int maxTokens) {
        return new SamplingParams(maxTokens, 0, 0, 1, null, List.of(), true);
    }

    public boolean isGreedy() {
        return temperature == 0;
    }

    /** Length of the longest stop string (0 without stops). */
    int longestStop() {
        int m = 0;
        for (String s : stop) {
            m = Math.max(m, s.length());
        }
        return m;
    }
}
