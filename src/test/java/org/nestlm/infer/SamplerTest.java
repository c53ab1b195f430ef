package org.nestlm.infer;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Greedy, temperature, top-k, top-p and seeds of {@link Sampler}; parameter validation. */
class SamplerTest {

    static final float[] LOGITS = {1f, 3f, 2.5f, -1f, 3f, 0f};

    private static SamplingParams p(double temperature, int topK, double topP, Long seed) {
        return new SamplingParams(10, temperature, topK, topP, seed, List.of(), false);
    }

    @Test
    void greedyTakesTheFirstMaximum() {
        assertEquals(1, new Sampler(p(0, 0, 1, null)).sample(LOGITS, 0, LOGITS.length));
        assertEquals(2, new Sampler(p(0, 0, 1, null)).sample(new float[] {9, 1, 2, 7}, 1, 3));   // offset honoured
    }

    @Test
    void topKOneIsGreedy() {
        Sampler s = new Sampler(p(5, 1, 1, 7L));
        for (int i = 0; i < 50; i++) {
            assertEquals(1, s.sample(LOGITS, 0, LOGITS.length));
        }
    }

    @Test
    void topKAndTopPRestrictTheCandidates() {
        Sampler k = new Sampler(p(10, 3, 1, 1L));
        Sampler nucleus = new Sampler(p(1, 0, 0.5, 2L));
        for (int i = 0; i < 300; i++) {
            int t = k.sample(LOGITS, 0, LOGITS.length);
            assertTrue(t == 1 || t == 4 || t == 2, "top-3 drew " + t);
            int n = nucleus.sample(LOGITS, 0, LOGITS.length);
            // p(1) = p(4) ≈ 0.35 each: the nucleus of 0.5 is tokens 1 and 4 (ties by id)
            assertTrue(n == 1 || n == 4, "top-p drew " + n);
        }
    }

    @Test
    void sameSeedSameDrawsAndTemperatureSpreadsThem() {
        Sampler a = new Sampler(p(1, 0, 1, 42L)), b = new Sampler(p(1, 0, 1, 42L));
        int[] counts = new int[LOGITS.length];
        for (int i = 0; i < 2000; i++) {
            int x = a.sample(LOGITS, 0, LOGITS.length);
            assertEquals(x, b.sample(LOGITS, 0, LOGITS.length));
            counts[x]++;
        }
        assertTrue(counts[0] > 0 && counts[5] > 0, "temperature 1 should reach unlikely tokens");
        assertNotEquals(0, counts[3]);
    }

    @Test
    void invalidParametersNameTheField() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> p(-1, 0, 1, null)).getMessage().contains("temperature"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> p(1, -2, 1, null)).getMessage().contains("top_k"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> p(1, 0, 0, null)).getMessage().contains("top_p"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new SamplingParams(-1, 0, 0, 1, null, List.of(), false)).getMessage().contains("max_tokens"));
    }
}
