package org.nestlm.demo;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AcceptanceTest {

    @Test
    void checksEachCondition() {
        FamilyCost cost = new FamilyCost(100, 300, 5000, 2);
        List<Acceptance.Check> ok = Acceptance.evaluate(List.of(Acceptance.Size.single("0.5", 3.0, 3.5, 2.95, 3.2)), cost);
        assertEquals(3, ok.size());
        assertTrue(Acceptance.all(ok));
        // 6 % worse than (b): fails the tolerance
        List<Acceptance.Check> far = Acceptance.evaluate(List.of(Acceptance.Size.single("0.5", 3.18, 3.5, 3.0, 3.2)), cost);
        assertFalse(far.get(1).pass());
        assertTrue(far.get(0).pass());
        // worse than the untrained cut
        assertFalse(Acceptance.evaluate(List.of(Acceptance.Size.single("0.5", 3.6, 3.5, 3.5, 3.2)), cost).getFirst().pass());
        // more tokens than (b)
        assertFalse(Acceptance.evaluate(List.of(), new FamilyCost(400, 300, 1, 2)).getFirst().pass());
    }

    @Test
    void overSeedsTheChecksUseTheMeansAndSayWhetherTheyHoldBeyondTheNoise() {
        FamilyCost cost = new FamilyCost(100, 300, 5000, 2);
        SeedStats cut = SeedStats.of(3.5, 3.6, 3.4);
        Acceptance.Size clear = new Acceptance.Size("0.5", SeedStats.of(3.0, 3.1, 2.9), cut, SeedStats.of(3.0, 3.0, 3.0), cut);
        Acceptance.Check c = Acceptance.evaluate(List.of(clear), cost).getFirst();
        assertTrue(c.pass() && c.text().contains("beyond the seed noise"), c.text());
        // better on the mean only: one seed worse than its cut
        Acceptance.Size noisy = new Acceptance.Size("0.5", SeedStats.of(3.3, 3.7, 3.3), cut, SeedStats.of(3.4, 3.4, 3.4), cut);
        c = Acceptance.evaluate(List.of(noisy), cost).getFirst();
        assertTrue(c.pass() && c.text().contains("within the seed noise"), c.text());
        assertTrue(Acceptance.evaluate(List.of(noisy), cost).get(1).text().contains("95 % intervals"));
    }

    @Test
    void familyCostAndMemory() {
        DemoPlan q = DemoPlan.quick();
        FamilyCost c = FamilyCost.of(q);
        long step = (long) q.windows().seqLen() * q.windows().batch();
        assertEquals(0, c.elastic() % step);
        assertTrue(c.elastic() <= q.family().tokens());
        assertEquals(2 * (q.baselines().minitronTokens() / step) * step, c.minitron());
        DemoPlan r = DemoPlan.reference();   // (c) with its own token count, below the parent's
        long scratchStep = (long) r.windows().seqLen() * r.windows().batch();
        assertEquals(2 * (r.baselines().scratchTokens() / scratchStep) * scratchStep, FamilyCost.of(r).scratch());
        assertTrue(r.baselines().scratchTokens() < r.parent().tokens());
        FamilyCost.Memory m = FamilyCost.memory(List.of(1000L, 750L, 500L), 10);
        assertEquals(2000, m.elasticBytes());
        assertEquals(4500, m.separateBytes());
        assertEquals(1 - 2010.0 / 4500, m.saving(), 1e-12);
    }
}
