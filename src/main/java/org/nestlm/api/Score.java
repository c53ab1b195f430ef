package org.nestlm.api;

/**
 * Log-probabilities of a token sequence under one size: {@code logprobs[i] = ln p(tokens[i+1] | tokens[0..i])}.
 *
 * @param tokens   the scored ids
 * @param logprobs natural-log probability of every token after the first ({@code tokens.length − 1} values)
 * @param nll      total negative log-likelihood, −Σ logprobs
 */
public record Score(int[] tokens, double[] logprobs, double nll) {

    /** exp(nll / predictions); NaN for a single token (nothing predicted). */
    public double perplexity() {
        return logprobs.length == 0 ? Double.NaN : Math.exp(nll / logprobs.length);
    }
}
