package org.nestlm.infer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nestlm.model.Checkpoint;
import org.nestlm.io.DType;
import org.nestlm.slice.ElasticFixtures;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Self-speculative decoding with nested drafts of an elastic checkpoint: greedy output is exactly plain
 * greedy output (for several draft lengths, so that rounds end in every way: rejection, full acceptance,
 * bonus token), the acceptance rule reproduces the target distribution, and a draft identical to the target
 * is always accepted.
 */
class SpeculativeDecodingTest {

    @TempDir
    static Path tmp;
    static Checkpoint ckpt;
    static Parallel parallel;
    static Engine full, big, small;

    @BeforeAll
    static void open() throws Exception {
        Path dir = ElasticFixtures.write(tmp.resolve("elastic"), DType.F32, 5);
        ckpt = Checkpoint.open(dir);
        parallel = new Parallel(2);
        full = Engine.of(ckpt, parallel);
        big = Engine.of(ckpt, parallel, ElasticFixtures.subnet(0));
        small = Engine.of(ckpt, parallel, ElasticFixtures.subnet(1));
    }

    @AfterAll
    static void close() {
        parallel.close();
        ckpt.close();
    }

    static Engine engine(String name) {
        return switch (name) {
            case "full" -> full;
            case "75" -> big;
            default -> small;
        };
    }

    @ParameterizedTest(name = "target {0}, draft {1}, k {2}")
    @CsvSource({"full,50,1", "full,50,3", "full,75,4", "75,50,2", "full,full,3"})
    void greedyOutputIsPlainGreedyOutput(String target, String draft, int k) {
        SamplingParams p = new SamplingParams(48, 0, 0, 1, null, List.of(), true);
        int[] prompt = InferTestModels.ids(7, 64, 3);
        Generation plain = new Generator(engine(target), null).generate(prompt, p, null);
        SpeculativeStats stats = new SpeculativeStats();
        Generation spec = new Generator(engine(target), null, engine(draft), k, stats).generate(prompt, p, null);
        assertArrayEquals(plain.tokens(), spec.tokens());
        assertTrue(stats.rounds() > 0);
        if (target.equals(draft)) {
            assertEquals(stats.proposed(), stats.accepted(), "a draft equal to the target is always accepted");
        }
    }

    @Test
    void sampledDraftEqualToTargetIsAlwaysAccepted() {
        SamplingParams p = new SamplingParams(40, 0.9, 0, 1, 17L, List.of(), true);
        SpeculativeStats stats = new SpeculativeStats();
        Generation g = new Generator(small, null, small, 3, stats).generate(InferTestModels.ids(5, 64, 1), p, null);
        assertEquals(40, g.tokens().length);
        assertEquals(stats.proposed(), stats.accepted());
    }

    @Test
    void sampledSpeculativeDecodingRuns() {
        SamplingParams p = new SamplingParams(40, 1.0, 20, 0.95, 3L, List.of(), true);
        SpeculativeStats stats = new SpeculativeStats();
        Generation g = new Generator(full, null, small, 4, stats).generate(InferTestModels.ids(5, 64, 2), p, null);
        assertEquals(40, g.tokens().length);
        assertTrue(stats.accepted() <= stats.proposed());
    }

    /** Draws d ~ q, verifies against p: the verified tokens are distributed as p (4σ bounds, 400k draws). */
    @Test
    void acceptanceRuleReproducesTheTargetDistribution() {
        double[][][] cases = {
                {{0.5, 0.2, 0.2, 0.1, 0.0}, {0.1, 0.1, 0.3, 0.2, 0.3}},
                {{0.0, 0.0, 1.0, 0.0, 0.0}, {0.25, 0.25, 0.0, 0.25, 0.25}},
                {{0.3, 0.3, 0.1, 0.2, 0.1}, {0.3, 0.3, 0.1, 0.2, 0.1}},
        };
        SplittableRandom r = new SplittableRandom(42);
        int n = 400_000;
        for (double[][] c : cases) {
            double[] p = c[0], q = c[1];
            long[] counts = new long[p.length];
            for (int i = 0; i < n; i++) {
                int d = Sampler.draw(q, r.nextDouble());
                counts[SpeculativeSampling.verify(p, q, d, r.nextDouble(), r.nextDouble()).token()]++;
            }
            for (int x = 0; x < p.length; x++) {
                double f = (double) counts[x] / n, sigma = Math.sqrt(p[x] * (1 - p[x]) / n);
                assertTrue(Math.abs(f - p[x]) <= 4 * sigma + 1e-9, "token " + x + ": " + f + " vs p " + p[x]);
            }
        }
    }

    @Test
    void rollbackRestoresTheStateOfThePrefix() {
        int[] ids = InferTestModels.ids(12, 64, 9);
        InferenceState a = full.newState();
        full.forward(a, java.util.Arrays.copyOf(ids, 5), false);
        a.beginTrace();
        full.forward(a, java.util.Arrays.copyOfRange(ids, 5, 12), true);
        a.rollback(8);
        InferenceState b = full.newState();
        full.forward(b, java.util.Arrays.copyOf(ids, 8), false);
        float[] x = full.step(a, 33), y = full.step(b, 33);
        assertTrue(InferTestModels.maxAbsDiff(x, y) <= 1e-5, "after rollback " + InferTestModels.maxAbsDiff(x, y));
        assertEquals(9, a.position());
    }
}
