package org.nestlm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.nestlm.model.NemotronH;

import java.util.List;
import java.util.function.BiFunction;

/**
 * Mean next-token loss over fixed validation windows, the figure every run (pretraining, the elastic run's
 * budgets, the baselines) logs as {@code val_loss}. Each batch's forward pass runs in its own scope, so one pass's
 * activations are alive at a time (held together, the passes of a 32 K-token validation with a vocabulary of 4,096
 * take gigabytes).
 */
public final class ValidationLoss {

    private ValidationLoss() {
    }

    /** The plain (unmasked) model on the first {@code batches} × {@code batchSize} windows of {@code validation}. */
    public static double mean(NemotronH model, TokenSource validation, int seqLen, int batchSize, int batches) {
        try (NDManager windows = NDManager.newBaseManager()) {
            return mean(WindowSampler.validation(windows, validation, seqLen, batchSize, batches), (m, in) -> model.forward(in));
        }
    }

    /**
     * @param batches windows from {@link WindowSampler#validation}
     * @param logits  the pass: (the batch's scope, [b, L] inputs in it) → [b, L, V] logits; anything it creates
     *                belongs in that scope
     * @return the mean cross-entropy in nats per token, every target weighted alike
     */
    public static double mean(List<WindowSampler.Batch> batches, BiFunction<NDManager, NDArray, NDArray> logits) {
        double sum = 0;
        long count = 0;
        for (WindowSampler.Batch b : batches) {
            try (NDManager scope = b.inputs().getManager().newSubManager()) {
                long n = b.targets().getShape().size();
                sum += Losses.crossEntropy(logits.apply(scope, b.inputsIn(scope)), b.targets()).getFloat() * n;
                count += n;
            }
        }
        return sum / count;
    }
}
