package org.nestlm.infer;

/**
 * The outcome of one generation.
 *
 * @param prompt       the prompt ids
 * @param tokens       generated ids (without a final end-of-sequence token; with the tokens of a stop string)
 * @param text         the generated text, cut before a stop string; null without a tokenizer
 * @param finish       why it ended
 * @param prefillNanos time to run the prompt and pick the first token
 * @param decodeNanos  time for the remaining tokens
 */
public record Generation(int[] prompt, int[] tokens, String text, FinishReason finish, long prefillNanos,
                         long decodeNanos) {

    /** Prompt tokens per second. */
    public double prefillTokensPerSecond() {
        return prefillNanos == 0 ? 0 : prompt.length * 1e9 / prefillNanos;
    }

    /** Decoded tokens per second (the first token comes with the prefill). */
    public double decodeTokensPerSecond() {
        return tokens.length <= 1 || decodeNanos == 0 ? 0 : (tokens.length - 1) * 1e9 / decodeNanos;
    }
}
