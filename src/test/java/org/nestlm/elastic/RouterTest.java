package org.nestlm.elastic;

import org.nestlm.sizes.Axis;
import org.nestlm.sizes.Budget;
import org.nestlm.sizes.ElasticSpace;
import org.nestlm.sizes.Subnet;

import ai.djl.engine.Engine;
import org.nestlm.model.Tensors;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;
import org.nestlm.DjlTestBase;
import org.nestlm.model.Param;
import org.nestlm.slice.ElasticFixtures;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The router's Gumbel-softmax sample: straight-through factors and the gradients they pass back. */
class RouterTest extends DjlTestBase {

    /** Runs backward of Σ factors + budget loss for one sample and returns the largest |gradient| of the router. */
    private static double backward(Router router, ElasticSpace space, double tau, double scale, long target, long seed,
                                   float upstream, boolean[] allOnes) {
        try (NDManager scope = NDManager.newBaseManager();
             GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            RouterSample s = router.sample(scope, router.oneHot(1), tau, scale, new SplittableRandom(seed), target, 0.02);
            NDArray loss = null;
            for (NDArray f : s.factors().values()) {
                float[] v = f.toFloatArray();
                for (float x : v) {
                    allOnes[0] &= x == 1f;
                }
                NDArray t = Tensors.mul(f.sum(), upstream);
                loss = loss == null ? t : loss.add(t);
            }
            loss = loss.add(ExpectedCost.budgetLoss(ExpectedCost.expectedParameters(scope, space, s), target, 0));
            gc.backward(loss);
        }
        double max = 0;
        for (Param p : router.params()) {
            for (float g : p.value().getGradient().toFloatArray()) {
                assertTrue(Float.isFinite(g), "non-finite gradient in " + p.name());
                max = Math.max(max, Math.abs(g));
            }
            ai.djl.pytorch.jni.JniUtils.zeroGrad((ai.djl.pytorch.engine.PtNDArray) p.value());
        }
        return max;
    }

    @Test
    void factorsAreOneAndGradientsStayFiniteWhenTheSoftmaxSaturates() {
        ElasticSpace space = ElasticFixtures.space();
        long target = Budget.parse("50%").target(ElasticFixtures.full().parameterCount());
        try (NDManager m = manager.newSubManager(); Router router = new Router(space, 2, 64, m, 3)) {
            for (Param p : router.params()) {
                p.value().setRequiresGradient(true);
            }
            boolean[] allOnes = {true};
            // a soft sample: gradients flow
            assertTrue(backward(router, space, 1.0, 1.0, target, 1, 1f, allOnes) > 0, "no router gradient from a soft sample");
            // τ 0.05 and scale 10 (the end of the schedule) and far beyond: near one-hot softmax in fp32, and projections
            // onto the budget pick choices of vanishing probability; the factors stay exactly 1 and no gradient is
            // inf/NaN, also under a large gradient from the loss (a ratio π_î / π_î held multiplies it by up to 1e12)
            for (double scale : new double[] {10, 1e3, 1e5}) {
                for (long seed = 0; seed < 20; seed++) {
                    backward(router, space, 0.05, scale, target, seed, 1f, allOnes);
                    backward(router, space, 0.05, scale, target, seed, 1e27f, allOnes);
                }
            }
            assertTrue(allOnes[0], "a straight-through factor differs from 1 in the forward pass");
        }
    }

    @Test
    void theMostLikelyChoiceIsTheArgmaxWithoutNoise() {
        ElasticSpace space = ElasticFixtures.space();
        try (NDManager m = manager.newSubManager(); Router router = new Router(space, 2, 64, m, 5)) {
            RouterSample s = router.sample(m, router.oneHot(0), 1.0, 1.0, null);
            ElasticSpace.Choice argmax = router.argmax(router.oneHot(0));
            assertEquals(argmax.hidden(), s.chosen().get(Axis.HIDDEN)[0]);
            assertEquals(argmax.depth(), s.chosen().get(Axis.DEPTH)[0]);
        }
    }

    @Test
    void candidatesAreTheMostLikelySubModelsWithinTheTolerance() {
        ElasticSpace space = ElasticFixtures.space();
        long full = ElasticFixtures.full().parameterCount();
        long target = Budget.parse("60%").target(full);
        try (NDManager m = manager.newSubManager(); Router router = new Router(space, 2, 64, m, 5)) {
            float[] u = router.oneHot(1);
            ElasticSpace.Choice best = router.resolve(u, target, 0.02);
            java.util.List<ElasticSpace.Choice> one = router.candidates(u, target, 0.02, 1);
            assertEquals(1, one.size());
            assertEquals(space.subnet(best), space.subnet(one.getFirst()));
            java.util.List<ElasticSpace.Choice> five = router.candidates(u, target, 0.02, 5);
            assertTrue(five.size() > 1, "several sub-models meet a 60 % budget: " + five.size());
            assertEquals(space.subnet(best), space.subnet(five.getFirst()), "the most likely first");
            java.util.Set<Subnet> distinct = new java.util.HashSet<>();
            for (ElasticSpace.Choice c : five) {
                long p = space.subnet(c).parameterCount(space.full().config());
                assertTrue(Math.abs(p / (double) target - 1) <= 0.02, p + " parameters for a target of " + target);
                distinct.add(space.subnet(c));
            }
            assertEquals(five.size(), distinct.size(), "candidates are distinct sub-models");
        }
    }
}
