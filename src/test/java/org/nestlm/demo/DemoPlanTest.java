package org.nestlm.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.nestlm.data.Corpora;
import org.nestlm.elastic.ElastifyConfig;

/** What each demo plan trains on and how its elastic run is batched. */
class DemoPlanTest {

    /** Tokens of one forward pass of the elastic run in each stage. */
    private static long passTokens(ElastifyConfig c, boolean stage1) {
        return (long) c.windowsPerMicroBatch(stage1) * (stage1 ? c.batching().seqLen() : c.stage2SeqLen());
    }

    @Test
    void theReferencePlanTrainsOnSentencesWithNoPassLongerInStage2ThanInStage1() {
        DemoPlan r = DemoPlan.named("reference");
        assertEquals(Corpora.SENTENCES, r.text().corpus());
        ElastifyConfig c = Demo.elastifyConfig(r, 0, 1);
        assertEquals(passTokens(c, true), passTokens(c, false));
        assertEquals(c.stage2TokensPerStep(), (long) c.microBatches(false) * passTokens(c, false), "tokens per step kept");
        ElastifyConfig onTwoRanks = Demo.elastifyConfig(r, 0, 2);
        assertEquals(c.stage2TokensPerStep(), onTwoRanks.stage2TokensPerStep());
        assertEquals(0, onTwoRanks.microBatches(false) % 2, "stage-2 micro-batches split over the ranks");
    }

    @Test
    void theDefaultAndQuickPlansKeepStage2Whole() {
        for (String name : new String[] {"default", "quick"}) {
            ElastifyConfig c = Demo.elastifyConfig(DemoPlan.named(name), 0, 1);
            assertEquals(c.microBatches(true), c.microBatches(false), name);
            assertEquals(c.stages().stage2Multiplier() * passTokens(c, true), passTokens(c, false), name);
        }
        assertEquals(Corpora.DEFAULT, DemoPlan.standard().text().corpus());
        assertTrue(DemoPlan.quick().text().builtinOnly());
        assertThrows(IllegalArgumentException.class, () -> DemoPlan.named("huge"));
    }
}
