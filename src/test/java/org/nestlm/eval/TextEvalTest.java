package org.nestlm.eval;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.util.DjlRuntime;

import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TextEvalTest {

    static {
        DjlRuntime.configure();
    }

    static final int SEP = 2;

    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void build() throws Exception {
        model = EvalTestModels.tiny(dir.resolve("tiny"), 3);
    }

    static int[] stream(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] s = new int[n];
        for (int i = 0; i < n; i++) {
            s[i] = 3 + r.nextInt(500);
        }
        return s;
    }

    /** With one window the NLL is the plain sum over the sequence, conditioned on a leading separator. */
    @Test
    void oneWindowEqualsDirectScore() throws Exception {
        int[] s = stream(40, 1);
        try (ModelScorer m = ModelScorer.open(model, null)) {
            TextScore t = TextEval.score(m, "x", i -> s[i], s.length, SEP, 100, 10, new TextEval.Settings(64, 32, 4, 0), false);
            long[] in = new long[s.length], out = new long[s.length];
            in[0] = SEP;
            for (int i = 0; i < s.length; i++) {
                if (i > 0) {
                    in[i] = s[i - 1];
                }
                out[i] = s[i];
            }
            float[] lp = m.logProbs(in, out, 1, s.length);
            double nll = 0;
            for (float v : lp) {
                nll -= v;
            }
            assertEquals(s.length, t.tokens());
            assertEquals(nll, t.nll(), 1e-3);
            assertEquals(Math.exp(t.nll() / 10), t.wordPerplexity(), 1e-6 * t.wordPerplexity());
            assertEquals(t.nll() / (Math.log(2) * 100), t.bitsPerByte(), 1e-9);
            assertFalse(t.capped());
        }
    }

    /** Sliding windows score every token once; separators are context, never targets; a cap scores a prefix. */
    @Test
    void slidingWindowsSeparatorsAndCap() throws Exception {
        int[] s = stream(300, 2);
        s[100] = SEP;
        s[299] = SEP;
        try (ModelScorer m = ModelScorer.open(model, null)) {
            TextScore full = TextEval.score(m, "x", i -> s[i], s.length, SEP, 1000, 100, new TextEval.Settings(32, 16, 4, 0), false);
            assertEquals(298, full.tokens());
            TextScore wide = TextEval.score(m, "x", i -> s[i], s.length, SEP, 1000, 100, new TextEval.Settings(512, 256, 4, 0), false);
            assertEquals(298, wide.tokens());
            assertTrue(Math.abs(full.loss() - wide.loss()) < 0.5, "a random model's loss barely depends on context");
            TextScore capped = TextEval.score(m, "x", i -> s[i], s.length, SEP, 1000, 100, new TextEval.Settings(32, 16, 4, 50), false);
            assertTrue(capped.capped());
            assertEquals(50, capped.tokens());
            assertEquals(1000 * 50 / 298.0, capped.bytes(), 1e-9);
        }
    }
}
