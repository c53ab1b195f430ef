package org.nestlm.demo;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SeedStatsTest {

    @Test
    void meanDeviationAndInterval() {
        SeedStats s = SeedStats.of(3.0, 3.2, 3.4);
        assertEquals(3.2, s.mean(), 1e-12);
        assertEquals(0.2, s.sd(), 1e-12);                           // sample deviation
        assertEquals(4.303 * 0.2 / Math.sqrt(3), s.halfWidth(), 1e-12);
        assertEquals("3.2000 ± 0.2000", s.format());
        assertEquals("[2.7031, 3.6969]", s.interval());
    }

    @Test
    void oneSeedHasNoSpread() {
        SeedStats s = SeedStats.of(3.5);
        assertTrue(Double.isNaN(s.sd()) && Double.isNaN(s.halfWidth()));
        assertEquals("3.5000", s.format());
        assertEquals("–", s.interval());
    }

    @Test
    void pairedDifferenceAndLargeSamples() {
        SeedStats d = SeedStats.of(3.0, 3.1).minus(SeedStats.of(3.5, 3.4));
        assertEquals(-0.4, d.mean(), 1e-12);
        assertEquals(2.042, SeedStats.t95(30), 0.001);               // the expansion against the table value
        assertEquals(1.984, SeedStats.t95(100), 0.001);
    }
}
