package org.nestlm.model;

import ai.djl.ndarray.NDArray;

/**
 * DJL attaches every op result to the manager of the op's first operand. A computation that starts from a
 * weight (e.g. {@code -exp(A_log)}) would therefore leak its result into the long-lived weight manager; these
 * helpers move such results to the manager of the activation they are used with, so they are freed with it.
 */
public final class DjlScope {

    private DjlScope() {
    }

    /** Moves {@code result} into the manager of {@code activation} and returns it. */
    public static NDArray with(NDArray result, NDArray activation) {
        result.attach(activation.getManager());
        return result;
    }
}
