package org.nestlm.sizes;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.io.DType;
import org.nestlm.slice.ElasticFixtures;
import org.nestlm.util.DjlRuntime;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The largest size under limits, checked against figures computed independently of the selector. */
class SizeSelectorTest {

    static {
        DjlRuntime.configure();
    }

    @TempDir
    static Path dir;
    static ElasticModel em;
    static final MemoryModel MEM = new MemoryModel(DType.BF16, 256, 2);

    @BeforeAll
    static void open() throws Exception {
        em = ElasticModel.open(ElasticFixtures.write(dir.resolve("el"), DType.BF16, 5));
    }

    @AfterAll
    static void close() {
        em.close();
    }

    /** Every size at every 0.1 % of the trained range, plus the fixed ones: what the selector may choose from. */
    static List<TrainedBudget> everySize() {
        if (everySize != null) {
            return everySize;
        }
        List<TrainedBudget> all = new ArrayList<>(em.fixedSizes());
        for (int k = 500; k <= 750; k++) {
            all.add(em.resolve(Budget.parse(ElasticModel.percent(k / 1000.0, 1))));
        }
        everySize = all;
        return all;
    }

    static List<TrainedBudget> everySize;

    static long bytes(TrainedBudget t) {
        return MEM.of(t.subnet(), ElasticFixtures.config()).total();
    }

    @Test
    void maxMemoryPicksTheLargestSizeThatFits() {
        long p75 = ElasticFixtures.subnet(0).parameterCount(ElasticFixtures.config());
        long limit = MEM.of(ElasticFixtures.subnet(0), ElasticFixtures.config()).total() + 1000;
        SizeChoice c = new SizeSelector(em).select(new SizeConstraints(-1, limit, Double.NaN, MEM, null, 1));
        assertTrue(bytes(c.size()) <= limit, "chosen size needs " + bytes(c.size()) + " > " + limit);
        assertEquals(bytes(c.size()), c.memory().total());
        assertTrue(c.size().parameters() >= p75, "75 % fits, so the choice is at least as large");
        // no size on the 0.1 % grid that fits is larger than the choice
        long bestFitting = everySize().stream().filter(t -> bytes(t) <= limit).mapToLong(TrainedBudget::parameters).max().orElseThrow();
        assertEquals(bestFitting, c.size().parameters());
    }

    @Test
    void maxParamsBetweenTrainedSizesGivesAnInterpolatedOne() {
        long limit = Math.round(0.62 * em.fullParameters());
        SizeChoice c = new SizeSelector(em).select(new SizeConstraints(limit, -1, Double.NaN, MEM, null, 1));
        assertTrue(c.size().parameters() <= limit);
        long bestFitting = everySize().stream().filter(t -> t.parameters() <= limit).mapToLong(TrainedBudget::parameters).max().orElseThrow();
        assertEquals(bestFitting, c.size().parameters());
        assertEquals(c.size().subnet(), em.resolve(Budget.parse(c.size().budget())).subnet(), "the label replays the choice");
    }

    @Test
    void maxLatencyUsesTheStoredProfile() {
        long full = em.fullParameters(), p75 = em.resolve(Budget.parse("75%")).parameters(), p50 = em.resolve(Budget.parse("50%")).parameters();
        LatencyProfile profile = new LatencyProfile(List.of(LatencyLine.of("100%", full, 2.0), LatencyLine.of("75%", p75, 1.5),
                LatencyLine.of("50%", p50, 1.0)));
        SizeChoice c = new SizeSelector(em).select(new SizeConstraints(-1, -1, 1.5, MEM, profile, 4));
        assertTrue(c.latencyMs() <= 1.5);
        assertEquals(p75, c.size().parameters(), "sizes above 75 % are estimated slower than 1.5 ms; 75 % is measured at 1.5");
        assertEquals(1.0, new SizeSelector(em).select(new SizeConstraints(-1, -1, 1.0, MEM, profile, 4)).latencyMs(), 1e-12);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SizeSelector(em).select(new SizeConstraints(-1, -1, 0.5, MEM, profile, 4)));
        assertTrue(e.getMessage().contains("smallest, 50%") && e.getMessage().contains("max-latency"), e.getMessage());
    }

    @Test
    void impossibleLimitsNameTheSmallestSize() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SizeSelector(em).select(new SizeConstraints(-1, 1000, Double.NaN, MEM, null, 1)));
        assertTrue(e.getMessage().contains("smallest, 50%") && e.getMessage().contains("max-memory")
                && e.getMessage().contains(MemoryModel.formatBytes(bytes(em.resolve(Budget.parse("50%"))))), e.getMessage());
    }

    /** Profile points for tests. */
    static final class LatencyLine {
        static LatencyProfile.Point of(String budget, long params, double ms) {
            return new LatencyProfile.Point(budget, params, 4, "BF16", ms, 64, "");
        }
    }
}
