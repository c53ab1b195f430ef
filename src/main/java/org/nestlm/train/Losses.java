package org.nestlm.train;

import ai.djl.ndarray.NDArray;

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
        return logProbs.gather(targets.expandDims(-1), -1).mean().neg();
    }
}
