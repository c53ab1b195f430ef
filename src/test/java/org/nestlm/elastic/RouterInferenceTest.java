package org.nestlm.elastic;

import org.nestlm.sizes.ElasticModel;
import org.nestlm.sizes.ElasticSpace;
import org.nestlm.sizes.RouterInference;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import org.nestlm.slice.ElasticFixtures;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The plain-Java router evaluation against the DJL router it stands in for at inference time. */
class RouterInferenceTest extends org.nestlm.DjlTestBase {

    @Test
    void logProbsAndResolutionsEqualTheDjlRouters() {
        ElasticSpace space = ElasticFixtures.space();
        long full = ElasticFixtures.full().parameterCount();
        Random rng = new Random(1);
        for (long seed = 0; seed < 3; seed++) {
            try (NDManager m = manager.newSubManager(); Router djl = new Router(space, 3, 32, m, seed)) {
                RouterInference java = new RouterInference(space, 3, 32, djl.state());
                for (int trial = 0; trial < 20; trial++) {
                    float[] u = trial < 3 ? djl.oneHot(trial) : interpolated(rng);
                    double[][][] a = djl.logProbs(u), b = java.logProbs(u);
                    for (int axis = 0; axis < a.length; axis++) {
                        for (int g = 0; g < a[axis].length; g++) {
                            assertArrayEquals(a[axis][g], b[axis][g], 1e-5, "axis " + axis + " group " + g);
                        }
                    }
                    long target = Math.round(full * (0.5 + 0.5 * rng.nextDouble()));
                    ElasticSpace.Choice x = djl.resolve(u, target, 0.02), y = java.resolve(u, target, 0.02);
                    assertEquals(space.subnet(x), space.subnet(y), "seed " + seed + " trial " + trial);
                }
            }
        }
    }

    /** A blend of two neighbouring one-hots, as {@link ElasticModel#interpolatedInput} makes. */
    private static float[] interpolated(Random rng) {
        float[] u = new float[3];
        int i = rng.nextInt(2);
        float w = rng.nextFloat();
        u[i] = w;
        u[i + 1] = 1 - w;
        return u;
    }

    @Test
    void aMissingWeightIsNamed() {
        try (NDManager m = manager.newSubManager(); Router djl = new Router(ElasticFixtures.space(), 3, 32, m, 0)) {
            var state = new java.util.HashMap<>(djl.state());
            state.remove("router.mlp.w2");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new RouterInference(ElasticFixtures.space(), 3, 32, state));
            assertEquals("router state has no (or a misshapen) 'router.mlp.w2'", e.getMessage());
        }
    }
}
