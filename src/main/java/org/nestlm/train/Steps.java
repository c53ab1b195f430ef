package org.nestlm.train;

import ai.djl.engine.Engine;
import org.nestlm.model.Tensors;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.nestlm.model.NemotronH;

import java.util.function.Function;

/**
 * The gradient half of one training micro-step, shared by {@link Pretrainer} and {@code nestlm bench train} so
 * that the benchmark measures exactly what training runs. Gradients accumulate in the parameters until
 * {@link AdamW#step} applies and zeroes them; every intermediate array lives in a scope closed here.
 */
public final class Steps {

    private Steps() {
    }

    /**
     * Forward, mean next-token cross-entropy over the full vocabulary, backward of {@code loss / accumulation}.
     *
     * @param batch makes the micro-batch's inputs and targets ([b, L] ids) in the manager it is given, a scope
     *              closed when the step ends (with every activation of the step)
     * @return the (unscaled) mean loss in nats
     */
    public static double crossEntropy(NemotronH model, Function<NDManager, WindowSampler.Batch> batch, int accumulation) {
        try (NDManager scope = NDManager.newBaseManager();
             GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            WindowSampler.Batch b = batch.apply(scope);
            NDArray l = Losses.crossEntropy(model.forward(b.inputs()), b.targets());
            gc.backward(accumulation == 1 ? l : Tensors.div(l, accumulation));
            return l.getFloat();
        }
    }

    /**
     * Knowledge distillation: the frozen {@code teacher}'s forward pass without autograd, the student's forward,
     * forward KL(teacher ‖ student) over the full vocabulary (mean over tokens), backward of
     * {@code loss / accumulation} through the student only.
     *
     * @param inputs makes the [b, L] input ids in the manager it is given (a scope closed when the step ends)
     * @return the (unscaled) mean KL in nats
     */
    public static double distillation(NemotronH teacher, NemotronH student, Function<NDManager, NDArray> inputs,
                                      int accumulation) {
        try (NDManager scope = NDManager.newBaseManager()) {
            NDArray in = inputs.apply(scope);
            NDArray teacherLogProbs = teacher.forward(in).logSoftmax(-1);   // outside the collector: no graph
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray l = Losses.forwardKl(teacherLogProbs, student.forward(in));
                gc.backward(accumulation == 1 ? l : Tensors.div(l, accumulation));
                return l.getFloat();
            }
        }
    }
}
