package org.nestlm.train;

/**
 * The tokens of one optimizer step: {@code accumulation} micro-batches of {@code batchSize} sequences of
 * {@code seqLen} tokens each (gradient accumulation; in a data-parallel run the micro-batches are split over the ranks).
 *
 * @param seqLen       tokens per training sequence
 * @param batchSize    sequences per micro-batch
 * @param accumulation micro-batches per optimizer step
 */
public record Batching(int seqLen, int batchSize, int accumulation) {

    public Batching {
        if (seqLen < 2) {
            throw new IllegalArgumentException("seq_len must be at least 2, got " + seqLen);
        }
        if (batchSize < 1 || accumulation < 1) {
            throw new IllegalArgumentException("batch size and accumulation must be positive");
        }
    }

    /** Tokens consumed by one optimizer step. */
    public long tokensPerStep() {
        return (long) seqLen * batchSize * accumulation;
    }
}
