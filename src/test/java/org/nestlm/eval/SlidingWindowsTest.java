package org.nestlm.eval;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SlidingWindowsTest {

    /** Every prediction is scored exactly once, windows are full length, and context after the first is >= context − stride. */
    @Test
    void everyPredictionOnceWithEnoughContext() {
        for (int n : new int[] {2, 5, 17, 64, 65, 66, 200, 1001}) {
            for (int[] cs : new int[][] {{16, 16}, {16, 8}, {16, 1}, {64, 32}, {7, 3}}) {
                List<SlidingWindows.Window> w = SlidingWindows.plan(n, cs[0], cs[1]);
                int[] hits = new int[n - 1];
                for (int i = 0; i < w.size(); i++) {
                    SlidingWindows.Window x = w.get(i);
                    assertTrue(x.begin() >= 0 && x.begin() + x.length() <= n - 1, "window inside the sequence");
                    if (n - 1 >= cs[0]) {
                        assertEquals(cs[0], x.length());
                    }
                    for (int t = x.scoreFrom(); t < x.length(); t++) {
                        hits[x.begin() + t]++;
                        if (i > 0) {
                            assertTrue(t >= cs[0] - cs[1] || x.begin() + x.length() == n - 1,
                                    "context " + t + " < " + (cs[0] - cs[1]));
                        }
                    }
                }
                for (int h : hits) {
                    assertEquals(1, h, "n=" + n + " context=" + cs[0] + " stride=" + cs[1]);
                }
            }
        }
    }

    @Test
    void rejectsBadStride() {
        assertThrows(IllegalArgumentException.class, () -> SlidingWindows.plan(10, 8, 9));
        assertThrows(IllegalArgumentException.class, () -> SlidingWindows.plan(10, 8, 0));
        assertTrue(SlidingWindows.plan(1, 8, 4).isEmpty());
    }
}
