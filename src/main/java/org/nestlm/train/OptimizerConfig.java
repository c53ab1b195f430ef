package org.nestlm.train;

/**
 * Settings of {@link AdamW} and of the gradient clip applied before its step.
 *
 * @param beta1       AdamW β1 (first-moment decay)
 * @param beta2       AdamW β2 (second-moment decay)
 * @param weightDecay decoupled weight decay (not applied to norms, biases, embeddings, SSM scalars)
 * @param clipNorm    global gradient-norm clip (≤ 0: off)
 */
public record OptimizerConfig(double beta1, double beta2, double weightDecay, double clipNorm) {

    public OptimizerConfig {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("AdamW betas must lie in [0, 1), got " + beta1 + ", " + beta2);
        }
        if (!(weightDecay >= 0)) {
            throw new IllegalArgumentException("weight decay must be ≥ 0, got " + weightDecay);
        }
    }

    public OptimizerConfig withWeightDecay(double v) {
        return new OptimizerConfig(beta1, beta2, v, clipNorm);
    }

    public OptimizerConfig withClipNorm(double v) {
        return new OptimizerConfig(beta1, beta2, weightDecay, v);
    }
}
