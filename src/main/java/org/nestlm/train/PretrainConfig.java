package org.nestlm.train;

/**
 * Hyperparameters of a pretraining run ({@link Pretrainer}); {@link #defaults} is their one source, which
 * {@code nestlm pretrain --help} shows. Stored in the run directory so that {@code --resume} continues with exactly
 * the same settings.
 *
 * @param tokens    total training tokens (steps = tokens / tokens per step)
 * @param batching  sequence length, micro-batch and accumulation
 * @param schedule  learning rate by step: linear warm-up, then cosine decay
 * @param optimizer AdamW betas, weight decay and gradient clip
 * @param cadence   validation and checkpoint intervals
 * @param seed      seed of data order and initialisation
 */
public record PretrainConfig(long tokens, Batching batching, Schedule schedule, OptimizerConfig optimizer, Cadence cadence,
                             long seed) {

    /**
     * Warm-up then cosine decay.
     *
     * @param peakLr      learning rate after warm-up
     * @param minLr       learning rate at the end of the cosine decay
     * @param warmupSteps linear warm-up from 0, in optimizer steps
     */
    public record Schedule(double peakLr, double minLr, int warmupSteps) {

        public Schedule {
            if (!(peakLr > 0) || minLr < 0 || minLr > peakLr) {
                throw new IllegalArgumentException("learning rates must satisfy 0 <= min_lr <= lr, lr > 0");
            }
        }
    }

    public PretrainConfig {
        if (tokens < batching.tokensPerStep()) {
            throw new IllegalArgumentException("--tokens " + tokens + " is less than one optimizer step ("
                    + batching.tokensPerStep() + " tokens)");
        }
    }

    /**
     * Defaults sized for small models on a CPU: windows of 128 tokens, 8 per step, peak LR 3e-3 decaying to a tenth,
     * 50 warm-up steps, AdamW 0.9 / 0.95 with weight decay 0.1, clip 1, validation every 100 steps on 8 batches,
     * a checkpoint every 200, seed 0.
     */
    public static PretrainConfig defaults(long tokens) {
        return new PretrainConfig(tokens, new Batching(128, 8, 1), new Schedule(3e-3, 3e-4, 50),
                new OptimizerConfig(0.9, 0.95, 0.1, 1.0), new Cadence(100, 8, 200), 0);
    }

    public PretrainConfig withBatching(Batching b) {
        return new PretrainConfig(tokens, b, schedule, optimizer, cadence, seed);
    }

    public PretrainConfig withSchedule(Schedule s) {
        return new PretrainConfig(tokens, batching, s, optimizer, cadence, seed);
    }

    public PretrainConfig withOptimizer(OptimizerConfig o) {
        return new PretrainConfig(tokens, batching, schedule, o, cadence, seed);
    }

    public PretrainConfig withCadence(Cadence c) {
        return new PretrainConfig(tokens, batching, schedule, optimizer, c, seed);
    }

    public PretrainConfig withSeed(long s) {
        return new PretrainConfig(tokens, batching, schedule, optimizer, cadence, s);
    }

    /** Tokens consumed by one optimizer step. */
    public long tokensPerStep() {
        return batching.tokensPerStep();
    }

    public int totalSteps() {
        return Math.toIntExact(tokens / tokensPerStep());
    }

    /** Warm-up then cosine decay to {@link Schedule#minLr}, by optimizer step (0-based). */
    public double learningRate(int step) {
        int total = totalSteps();
        double peakLr = schedule.peakLr(), minLr = schedule.minLr();
        int warmupSteps = schedule.warmupSteps();
        if (step < warmupSteps) {
            return peakLr * (step + 1) / warmupSteps;
        }
        double progress = total <= warmupSteps ? 1 : (double) (step - warmupSteps) / Math.max(1, total - warmupSteps);
        progress = Math.min(1, progress);
        return minLr + 0.5 * (peakLr - minLr) * (1 + Math.cos(Math.PI * progress));
    }
}
