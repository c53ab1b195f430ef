package org.nestlm.train;

/**
 * Hyperparameters of a pretraining run. Stored in the run directory so that {@code --resume} continues
 * with exactly the same settings.
 *
 * @param tokens          total training tokens (steps = tokens / tokensPerStep)
 * @param seqLen          tokens per training sequence
 * @param batchSize       sequences per micro-batch
 * @param accumulation    micro-batches per optimizer step (gradient accumulation)
 * @param peakLr          learning rate after warm-up
 * @param minLr           learning rate at the end of the cosine decay
 * @param warmupSteps     linear warm-up from 0
 * @param weightDecay     decoupled AdamW decay (not applied to norms, biases, embeddings, SSM scalars)
 * @param beta1           AdamW β1
 * @param beta2           AdamW β2
 * @param clipNorm        global gradient-norm clip (≤ 0: off)
 * @param evalEvery       optimizer steps between validations (and at the end)
 * @param evalBatches     validation micro-batches (fixed windows, the same every time)
 * @param checkpointEvery optimizer steps between resumable checkpoints (and at the end)
 * @param seed            seed of data order and initialisation
 */
public record PretrainConfig(long tokens, int seqLen, int batchSize, int accumulation, double peakLr, double minLr,
                             int warmupSteps, double weightDecay, double beta1, double beta2, double clipNorm,
                             int evalEvery, int evalBatches, int checkpointEvery, long seed) {

    public PretrainConfig {
        if (seqLen < 2) {
            throw new IllegalArgumentException("seq_len must be at least 2, got " + seqLen);
        }
        if (batchSize < 1 || accumulation < 1) {
            throw new IllegalArgumentException("batch size and accumulation must be positive");
        }
        if (!(peakLr > 0) || minLr < 0 || minLr > peakLr) {
            throw new IllegalArgumentException("learning rates must satisfy 0 <= min_lr <= lr, lr > 0");
        }
        if (tokens < (long) seqLen * batchSize * accumulation) {
            throw new IllegalArgumentException("--tokens " + tokens + " is less than one optimizer step ("
                    + (long) seqLen * batchSize * accumulation + " tokens)");
        }
    }

    /** Tokens consumed by one optimizer step. */
    public long tokensPerStep() {
        return (long) seqLen * batchSize * accumulation;
    }

    public int totalSteps() {
        return Math.toIntExact(tokens / tokensPerStep());
    }

    /** Defaults sized for small models on a CPU. */
    public static PretrainConfig defaults(long tokens) {
        return new PretrainConfig(tokens, 128, 8, 1, 3e-3, 3e-4, 50, 0.1, 0.9, 0.95, 1.0, 100, 8, 200, 0);
    }

    /** Warm-up then cosine decay to {@link #minLr}, by optimizer step (0-based). */
    public double learningRate(int step) {
        int total = totalSteps();
        if (step < warmupSteps) {
            return peakLr * (step + 1) / warmupSteps;
        }
        double progress = total <= warmupSteps ? 1 : (double) (step - warmupSteps) / Math.max(1, total - warmupSteps);
        progress = Math.min(1, progress);
        return minLr + 0.5 * (peakLr - minLr) * (1 + Math.cos(Math.PI * progress));
    }
}
