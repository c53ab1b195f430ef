package org.nestlm.sizes;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.io.DType;
import org.nestlm.slice.ElasticFixtures;
import org.nestlm.util.DjlRuntime;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Untrained budgets between the trained ones: router input blending, ±2 % of target, the report's even spacing. */
class InterpolationTest {

    static {
        DjlRuntime.configure();
    }

    @TempDir
    static Path dir;
    static ElasticModel em;

    @BeforeAll
    static void open() throws Exception {
        em = ElasticModel.open(ElasticFixtures.write(dir.resolve("el"), DType.BF16, 5));
    }

    @AfterAll
    static void close() {
        em.close();
    }

    @Test
    void routerInputBlendsTheTwoNeighbours() {
        double[] fr = {1.0, 0.75, 0.5};
        assertArrayEquals(new float[] {0, 1, 0}, ElasticModel.interpolatedInput(fr, 0.75));
        float[] u = ElasticModel.interpolatedInput(fr, 0.6);
        assertEquals(0, u[0]);
        assertEquals(0.4f, u[1], 1e-6);   // (0.6 − 0.5) / (0.75 − 0.5)
        assertEquals(0.6f, u[2], 1e-6);
        assertThrows(IllegalArgumentException.class, () -> ElasticModel.interpolatedInput(fr, 0.4));
    }

    @Test
    void sixtyPercentResolvesWithinTwoPercentOfItsTarget() {
        TrainedBudget t = em.resolve(Budget.parse("60%"));
        assertEquals(Math.round(0.6 * em.fullParameters()), t.target());
        assertTrue(Math.abs(t.deviation()) <= 0.02, "deviation " + t.deviation());
        assertFalse(t.trained());
        assertEquals(SizeChoice.Kind.INTERPOLATED, em.kindOf(t));
        t.subnet().validate(em.checkpoint().architecture());
        // the label is a budget: resolving it again gives the same sub-model
        assertEquals(t.subnet(), em.resolve(Budget.parse(t.budget())).subnet());
    }

    @Test
    void evenlySpacedBudgetsForTheReport() {
        List<TrainedBudget> five = em.interpolatedBudgets(5);
        assertEquals(5, five.size());
        double[] expected = {0.5417, 0.5833, 0.625, 0.6667, 0.7083};
        for (int i = 0; i < 5; i++) {
            TrainedBudget t = five.get(i);
            assertEquals(expected[i], Budget.parse(t.budget()).fraction(), 1e-9, t.budget());
            assertTrue(Math.abs(t.deviation()) <= 0.02, t.budget() + " deviates " + t.deviation());
            assertEquals(SizeChoice.Kind.INTERPOLATED, em.kindOf(t));
        }
        assertEquals("54.17%", five.getFirst().budget());
        assertThrows(IllegalArgumentException.class, () -> em.interpolatedBudgets(0));
        assertThrows(IllegalArgumentException.class, () -> em.resolve(Budget.parse("40%")));
        assertEquals(SizeChoice.Kind.TRAINED, em.kindOf(em.resolve(Budget.parse("50%"))));
        assertEquals(SizeChoice.Kind.FULL, em.kindOf(em.resolve(Budget.parse("100%"))));
    }
}
