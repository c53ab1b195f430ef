package org.nestlm.eval;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.util.DjlRuntime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlimpTest {

    static {
        DjlRuntime.configure();
    }

    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void build() throws Exception {
        model = EvalTestModels.tiny(dir.resolve("tiny"), 5);
    }

    @Test
    void readsPairsAndNamesBadLines() throws Exception {
        Path f = Files.writeString(dir.resolve("agreement.jsonl"),
                "{\"sentence_good\":\"The cat sleeps.\",\"sentence_bad\":\"The cat sleep.\",\"UID\":\"sv\"}\n\n"
                        + "{\"sentence_good\":\"A dog runs.\",\"sentence_bad\":\"A dog run.\"}\n");
        List<BlimpPair> p = Blimp.read(f);
        assertEquals(2, p.size());
        assertEquals("sv", p.get(0).paradigm());
        assertEquals("agreement", p.get(1).paradigm());          // no UID: the file name
        Path bad = Files.writeString(dir.resolve("bad.jsonl"), "{\"sentence_good\":\"x\"}\n");
        IOException e = assertThrows(IOException.class, () -> Blimp.read(bad));
        assertTrue(e.getMessage().contains(bad + ":1"), e.getMessage());
    }

    /** Right padding does not change a sentence's log-probability (the model is causal). */
    @Test
    void paddingDoesNotChangeScores() throws Exception {
        long[] a = {2, 10, 20, 30}, b = {2, 40, 50, 60, 70, 80, 90, 100};
        try (ModelScorer m = ModelScorer.open(model, null)) {
            double alone = Blimp.sentenceLogProbs(m, List.of(a), 2)[0];
            double[] both = Blimp.sentenceLogProbs(m, List.of(a, b), 2);
            assertEquals(alone, both[0], 1e-4);
            assertArrayEquals(new double[] {both[1]}, Blimp.sentenceLogProbs(m, List.of(b), 2), 1e-4);
        }
    }

    /** On the provided BLiMP paradigms, when present: per-paradigm counts and the cap per paradigm. */
    @Test
    void sharedParadigms() throws Exception {
        Path blimp = EvalData.sharedData().resolve("blimp");
        Assumptions.assumeTrue(Files.isDirectory(blimp), "../shared/data/blimp is not present");
        List<BlimpPair> p = Blimp.read(blimp);
        assertEquals(6000, p.size());
        assertEquals(6, p.stream().map(BlimpPair::paradigm).distinct().count());
    }
}
