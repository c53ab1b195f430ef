package org.nestlm.elastic;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nestlm.model.NemotronH;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.model.Architecture;
import org.nestlm.sizes.ElasticSpace;
import org.nestlm.sizes.Resolution;
import org.nestlm.sizes.TrainedBudget;
import org.nestlm.train.WindowSampler;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The searched routing: the teacher's best cut per budget, a router fitted to it, the same sub-models for every seed. */
class SubnetSearchTest extends org.nestlm.DjlTestBase {

    static final ElasticSpace SPACE = ElasticSpace.defaults(Architecture.fromConfig(ElastifyTest.TINY), ElastifyTest.REMOVAL, false);
    static final long FULL = SPACE.full().parameterCount();

    static NemotronH teacher;

    @BeforeAll
    static void build() {
        teacher = NemotronH.initialize(SPACE.full(), 1, manager);
    }

    @AfterAll
    static void close() {
        teacher.close();
    }

    static List<SubnetSearch.Scored> rank(long target) {
        try (NDManager m = manager.newSubManager()) {
            List<WindowSampler.Batch> windows = WindowSampler.validation(m, ElastifyTest.data(4_000, 1), 32, 4, 2);
            return new SubnetSearch(teacher, SPACE, windows).rank(target, 0.02);
        }
    }

    @Test
    void everyCandidateWithinTheToleranceIsScoredBestFirst() {
        long target = FULL / 2;
        List<SubnetSearch.Scored> ranked = rank(target);
        assertEquals(Resolution.candidates(SPACE, SubnetSearch.uniformLogProbs(SPACE), target, 0.02, Integer.MAX_VALUE).size(),
                ranked.size());
        assertTrue(ranked.size() > 1, "a real choice: " + ranked.size());
        for (int i = 0; i < ranked.size(); i++) {
            SubnetSearch.Scored s = ranked.get(i);
            assertTrue(Math.abs(s.parameters() / (double) target - 1) <= 0.02, s.parameters() + " for " + target);
            assertTrue(s.kl() > 0, "a cut changes the teacher's predictions");
            if (i > 0) {
                assertTrue(ranked.get(i - 1).kl() <= s.kl(), "sorted by KL");
            }
        }
        assertNotEquals(ranked.getFirst().kl(), ranked.getLast().kl(), "the candidates differ");
    }

    @Test
    void theFullBudgetFindsTheUncutTeacher() {
        SubnetSearch.Scored best = rank(FULL).getFirst();
        assertEquals(FULL, best.parameters());
        assertEquals(0.0, best.kl(), 1e-5);
    }

    @Test
    void theFittedRouterResolvesEveryBudgetToItsAnchor() {
        List<ElasticSpace.Choice> anchors = List.of(ElasticSpace.Choice.full(1), new ElasticSpace.Choice(2, new int[] {5}, 1, 0, 1),
                new ElasticSpace.Choice(4, new int[] {9}, 3, 0, 0));
        try (Router r = new Router(SPACE, 3, 32, manager, 0)) {
            r.fit(anchors);
            for (int b = 0; b < anchors.size(); b++) {
                assertTrue(java.util.Arrays.deepEquals(Router.indices(anchors.get(b)), Router.indices(r.argmax(r.oneHot(b)))),
                        "budget " + b);
            }
        }
    }

    @Test
    void aKilledSearchedRunResumesToTheSameFiles(@TempDir Path dir) throws IOException {
        ElastifyConfig c = ElastifyTest.config(32 * 4 * 10, 4);
        c = c.withRouting(c.routing().withMode(ElastifyConfig.Routing.Mode.SEARCHED))
                .withObjective(new ElastifyConfig.Objective(0.0, 0.0, 0.3, 1.0));   // interpolated draws and full passes too
        ElastifyTest.elastify(dir.resolve("whole"), c).run(teacher, ElastifyTest.REMOVAL, false, 0);
        Path killed = dir.resolve("killed");
        ElastifyTest.elastify(killed, c).run(teacher, ElastifyTest.REMOVAL, false, 6);    // last checkpoint at step 4
        ElastifyTest.elastify(killed, c).run(teacher, ElastifyTest.REMOVAL, true, 0);
        org.nestlm.train.RunFiles.assertSameRun(dir.resolve("whole"), killed);
    }

    /** Whether every logged step trained a budget below 100 % (a trained one or one in between). */
    private static boolean everyStepDrewBelowFull(Path run) throws IOException {
        return new org.nestlm.train.TrainLog(run).entries().stream()
                .allMatch(e -> e.has("kd_0.75") || e.has("kd_0.5") || e.has("kd_interpolated"));
    }

    @Test
    void withTheFullModelBesideEveryDrawOnlySmallerBudgetsAreDrawn(@TempDir Path dir) throws IOException {
        ElastifyConfig c = ElastifyTest.config(32 * 4 * 24, 1000);   // 18 stage-1 + 3 stage-2 steps
        ElastifyConfig searched = c.withRouting(c.routing().withMode(ElastifyConfig.Routing.Mode.SEARCHED));
        ElastifyConfig beside = searched.withObjective(new ElastifyConfig.Objective(0.0, 0.0, 0.3, 1.0));
        ElastifyTest.elastify(dir.resolve("beside"), beside).run(teacher, ElastifyTest.REMOVAL, false, 0);
        assertTrue(everyStepDrewBelowFull(dir.resolve("beside")), "the full model trains through its pass beside each draw");
        assertTrue(new org.nestlm.train.TrainLog(dir.resolve("beside")).entries().stream().allMatch(e -> e.has("kd_1.0")));
        // without the full model's pass (the paper's objective) the full budget is drawn like the others
        ElastifyTest.elastify(dir.resolve("alone"), searched).run(teacher, ElastifyTest.REMOVAL, false, 0);
        assertTrue(!everyStepDrewBelowFull(dir.resolve("alone")), "some step draws the full budget");
    }

    @Test
    void everySeedTrainsTheSearchedSubModels(@TempDir Path dir) throws IOException {
        List<List<TrainedBudget>> bySeed = new java.util.ArrayList<>();
        for (long seed : new long[] {3, 4}) {
            ElastifyConfig c = ElastifyTest.config(32 * 4 * 8, 1000).withSeed(seed);
            c = c.withRouting(c.routing().withMode(ElastifyConfig.Routing.Mode.SEARCHED));
            bySeed.add(ElastifyTest.elastify(dir.resolve("s" + seed), c).run(teacher, ElastifyTest.REMOVAL, false, 0)
                    .budgets());
        }
        assertEquals(bySeed.get(0).stream().map(TrainedBudget::subnet).toList(), bySeed.get(1).stream().map(TrainedBudget::subnet).toList());
        // the run searched on the first windows of its training data: the same search here picks the same sub-models
        try (NDManager m = manager.newSubManager()) {
            SubnetSearch search = new SubnetSearch(teacher, SPACE,
                    WindowSampler.validation(m, ElastifyTest.data(20_000, 1), 32, 4, 2));
            for (TrainedBudget b : bySeed.get(0).subList(1, 3)) {
                assertEquals(search.best(b.target(), 0.02).subnet(), b.subnet(), b.budget());
            }
        }
    }
}
