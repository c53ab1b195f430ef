package org.nestlm.api;

/**
 * Counts of self-speculative decoding over every generation of one {@link TextModel}: the draft (a smaller nested
 * size of the same checkpoint) proposes tokens, the target verifies several in one pass; the output is
 * distributed exactly as the target's.
 *
 * @param rounds   target passes
 * @param proposed draft tokens proposed
 * @param accepted draft tokens the target accepted
 */
public record Speculation(long rounds, long proposed, long accepted) {

    /** accepted / proposed; NaN before the first round. */
    public double acceptanceRate() {
        return proposed == 0 ? Double.NaN : (double) accepted / proposed;
    }

    /** Tokens produced per target pass, (accepted + rounds) / rounds; NaN before the first round. */
    public double tokensPerTargetPass() {
        return rounds == 0 ? Double.NaN : (double) (accepted + rounds) / rounds;
    }
}
