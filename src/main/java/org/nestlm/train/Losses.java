package org.nestlm.train;

import ai.djl.ndarray.NDArray;
import org.nestlm.model.DjlScope;
import org.nestlm.model.Tensors;

/** Training losses. */
public final class Losses {

    private Losses() {
    }

    /**
     * Mean next-token cross-entropy in nats.
     *
     * @param logits  [b, L, V]
     * @param targets [b, L] int64
     */
    public static NDArray crossEntropy(NDArray logits, NDArray targets) {
        NDArray logProbs = logits.logSoftmax(-1);                                  // [b, L, V]
        // [b, L, 1] index, freed with the logits rather than with the (possibly longer-lived) targets
        NDArray index = DjlScope.with(targets.expandDims(-1), logits);
        return logProbs.gather(index, -1).mean().neg();
    }

    /**
     * Forward KL(teacher ‖ student) = Σ_v p_t·(log p_t − log p_s), summed over the vocabulary and averaged over
     * tokens (PyTorch's {@code kl_div(s_logp, t_logp, reduction="batchmean", log_target=True)} on [b·L, V] rows).
     *
     * @param teacherLogProbs [b, L, V] log-probabilities of the frozen teacher (no gradient)
     * @param studentLogits   [b, L, V] logits of the student
     */
    public static NDArray forwardKl(NDArray teacherLogProbs, NDArray studentLogits) {
        NDArray studentLogProbs = studentLogits.logSoftmax(-1);
        long rows = teacherLogProbs.getShape().size() / teacherLogProbs.getShape().tail();
        return Tensors.div(teacherLogProbs.exp().mul(teacherLogProbs.sub(studentLogProbs)).sum(), rows);
    }
}
