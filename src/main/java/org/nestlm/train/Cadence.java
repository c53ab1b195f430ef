package org.nestlm.train;

/**
 * How often a training run validates and checkpoints ({@link TrainingRun}); both also happen at the run's last step.
 *
 * @param evalEvery       optimizer steps between validations
 * @param evalBatches     validation micro-batches (fixed windows from the start of the validation split, the same
 *                        every time)
 * @param checkpointEvery optimizer steps between resumable checkpoints ({@code train_state/})
 */
public record Cadence(int evalEvery, int evalBatches, int checkpointEvery) {

    public Cadence {
        if (evalEvery < 1 || evalBatches < 1 || checkpointEvery < 1) {
            throw new IllegalArgumentException("eval-every, eval-batches and checkpoint-every must be at least 1, got "
                    + evalEvery + ", " + evalBatches + ", " + checkpointEvery);
        }
    }
}
