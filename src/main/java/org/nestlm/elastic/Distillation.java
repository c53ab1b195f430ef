package org.nestlm.elastic;

import ai.djl.ndarray.NDArray;
import org.nestlm.train.Losses;

/** Knowledge-distillation losses. */
public final class Distillation {

    private Distillation() {
    }

    /**
     * Forward KL(p_teacher ‖ p_student) over the vocabulary at temperature 1, mean over tokens
     * (docs/METHOD.md §7.1). Zero exactly when the student's logits equal the teacher's up to a constant.
     *
     * @param teacher [b, L, V] logits, computed without autograd
     * @param student [b, L, V] logits
     */
    public static NDArray forwardKl(NDArray teacher, NDArray student) {
        return Losses.forwardKl(teacher.logSoftmax(-1), student);
    }
}
