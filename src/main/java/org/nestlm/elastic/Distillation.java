package org.nestlm.elastic;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.nestlm.model.Masks;
import org.nestlm.sizes.ElasticSpace;
import org.nestlm.sizes.Subnet;
import org.nestlm.model.NemotronH;
import org.nestlm.model.Tensors;
import org.nestlm.train.Losses;
import org.nestlm.train.WindowSampler;

import java.util.SplittableRandom;

/** Knowledge-distillation losses, and the elastic distillation step of one micro-batch built on them. */
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

    /**
     * {@link #forwardKl} with every temporary in {@code scope}: DJL puts the result of an operation in the manager of
     * its first operand, so with teacher logits that outlive the call (one set scored against many students) the
     * loss's [b, L, V] temporaries would otherwise stay until those logits are freed. The logits are attached to
     * {@code scope} for the call and return to their own manager when it closes.
     */
    public static float forwardKlIn(NDManager scope, NDArray teacher, NDArray student) {
        teacher.tempAttach(scope);
        return forwardKl(teacher, student).getFloat();
    }

    /**
     * The students and router that one elastic micro-batch trains, with the frozen teacher.
     *
     * @param space the elastic space the router chooses in (the student's full architecture)
     */
    public record Models(NemotronH teacher, NemotronH student, Router router, ElasticSpace space) {
    }

    /**
     * What one elastic micro-batch measured (nats per token, parameters).
     *
     * @param kd                 forward KL(teacher ‖ student) of the (masked) student
     * @param loss               the distillation loss: {@code kd} plus the weighted CE term, if any
     * @param budgetLoss         |E[P] / P̂ − 1| of the router's sample (with its dead zone)
     * @param expectedParameters E[P] of the router's sample
     * @param fullKd             forward KL of the full model's pass on the same windows, NaN when there was none
     */
    public record Step(float kd, float loss, float budgetLoss, float expectedParameters, float fullKd) {

        /** Neither loss left the numbers. */
        public boolean finite() {
            return Float.isFinite(loss) && Float.isFinite(budgetLoss);
        }
    }

    /**
     * The distillation loss of the micro-batch, with the full model's pass added at {@code fullWeight} (0: none). Both
     * passes go into one loss and one backward, so a micro-batch adds one gradient to the accumulation, whichever rank
     * computes it (the data-parallel sum then equals one process's, docs/MPI.md).
     */
    private static Loss withFull(Models models, WindowSampler.Batch batch, NDArray teacherLogits, Loss loss, double fullWeight,
                                 ElastifyConfig config) {
        if (fullWeight <= 0) {
            return new Loss(loss.total(), loss.kd(), Float.NaN);
        }
        Loss full = loss(models, batch, teacherLogits, null, config);
        NDArray total = loss.total().add(fullWeight == 1 ? full.total() : Tensors.mul(full.total(), (float) fullWeight));
        return new Loss(total, loss.kd(), full.kd());
    }

    /** The frozen teacher's [b, L, V] logits for the batch; run outside any gradient collector, so no graph is kept. */
    public static NDArray teacherLogits(Models models, WindowSampler.Batch batch) {
        return models.teacher().forward(batch.inputs());
    }

    /**
     * One micro-batch of elastic distillation (docs/METHOD.md §7), the inner step of {@code nestlm elastify} and of
     * {@code nestlm bench train}'s elastic step: the router's sample for
     * {@code routerInput} (Gumbel-softmax at τ, logit scale, straight-through hard masks, projected onto
     * {@code target} unless {@code full}); the student's forward pass under those masks (unmasked for the full
     * budget); forward KL (+ the CE term) plus the budget loss; backward of their sum / microBatches through student
     * and router. Gradients accumulate in the parameters; every array of the step lives in {@code scope}.
     *
     * @param batch       [b, L] inputs and targets, in {@code scope}
     * @param teacherLogits [b, L, V] the teacher's logits for the batch ({@link #teacherLogits}), no autograd
     * @param routerInput the router's budget input: one-hot for a trained budget, two adjacent weights between two
     * @param target      the budget's parameter count
     * @param full        the 100 % budget: the student's forward pass is not masked
     * @param rng         the micro-batch's generator of Gumbel noise (seeded by step and micro-batch)
     */
    public static Step elasticStep(NDManager scope, Models models, WindowSampler.Batch batch, NDArray teacherLogits,
                                   float[] routerInput, long target, boolean full, double tau, double scale, SplittableRandom rng,
                                   double fullWeight, int microBatches, ElastifyConfig config) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            RouterSample sample = models.router().sample(scope, routerInput, tau, scale, rng, full ? 0 : target,
                    config.resolving().tolerance());
            Masks masks = full ? null : SubnetMasks.straightThrough(scope, models.space(), sample);
            Loss loss = withFull(models, batch, teacherLogits, loss(models, batch, teacherLogits, masks, config), fullWeight, config);
            // the router learns every budget's size, the full one too (so interpolation above the largest routed
            // budget is meaningful); the full budget's forward pass is never masked
            NDArray expected = ExpectedCost.expectedParameters(scope, models.space(), sample);
            NDArray bl = ExpectedCost.budgetLoss(expected, target, config.objective().budgetTolerance());
            if (sample.saturated()) {
                // every axis one-hot in fp32: the budget loss's gradient is zero analytically, but its backward
                // through the saturated softmax gives inf/NaN router gradients
                bl = bl.stopGradient();
            }
            Step step = new Step(loss.kd(), loss.total().getFloat(), bl.getFloat(), expected.getFloat(), loss.fullKd());
            if (step.finite()) {
                gc.backward(Tensors.div(loss.total().add(bl), (float) microBatches));
            }
            return step;
        }
    }

    /**
     * One micro-batch of elastic distillation with the routing fixed (the searched routing, docs/METHOD.md §6.6):
     * the student's forward pass under the hard masks of {@code subnet} ({@code null}: the full model,
     * unmasked), forward KL (+ the CE term), plus the full model's pass at {@code fullWeight} (0: none), backward of
     * it / microBatches through the student alone. The budget loss is 0: the sub-model meets its budget by construction.
     */
    public static Step fixedStep(NDManager scope, Models models, WindowSampler.Batch batch, NDArray teacherLogits,
                                 Subnet subnet, double fullWeight, int microBatches, ElastifyConfig config) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            Masks masks = subnet == null ? null : SubnetMasks.hard(scope, models.space().full(), subnet);
            Loss loss = withFull(models, batch, teacherLogits, loss(models, batch, teacherLogits, masks, config), fullWeight, config);
            long parameters = (subnet == null ? Subnet.full(models.space().full()) : subnet)
                    .parameterCount(models.space().full().config());
            Step step = new Step(loss.kd(), loss.total().getFloat(), 0f, parameters, loss.fullKd());
            if (step.finite()) {
                gc.backward(Tensors.div(loss.total(), (float) microBatches));
            }
            return step;
        }
    }

    /** The student's distillation loss under {@code masks} (null: unmasked) and its KD part, in nats per token. */
    private record Loss(NDArray total, float kd, float fullKd) {
    }

    private static Loss loss(Models models, WindowSampler.Batch batch, NDArray teacherLogits, Masks masks, ElastifyConfig config) {
        NDArray logits = masks == null ? models.student().forward(batch.inputs()) : models.student().forward(batch.inputs(), masks);
        NDArray loss = forwardKl(teacherLogits, logits);
        float kd = loss.getFloat();
        double ceWeight = config.objective().ceWeight();
        if (ceWeight > 0) {
            loss = loss.add(Tensors.mul(Losses.crossEntropy(logits, batch.targets()), (float) ceWeight));
        }
        return new Loss(loss, kd, Float.NaN);
    }
}
