package org.nestlm.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class SplitRuleTest {

    private static final SplitRule R = SplitRule.DEFAULT;

    private static String lines(int n) {
        StringBuilder sb = new StringBuilder();
        Random rnd = new Random(n);
        for (int i = 0; i < n; i++) {
            sb.append("line ").append(i).append(" ").append("x".repeat(rnd.nextInt(40))).append('\n');
        }
        return sb.toString();
    }

    @Test
    void partsConcatenateToTheDocumentAndCutAtLineStarts() {
        String doc = lines(200);
        String train = R.part(doc, Split.TRAIN);
        String val = R.part(doc, Split.VALIDATION);
        String test = R.part(doc, Split.TEST);
        assertEquals(doc, train + val + test);
        assertEquals(doc, R.part(doc, Split.ALL));
        assertTrue(train.endsWith("\n") && val.endsWith("\n"), "cuts fall on line starts");
        assertTrue(val.startsWith("line ") && test.startsWith("line "));
        assertTrue(train.length() >= 0.90 * doc.length() && train.length() < 0.95 * doc.length());
        assertTrue(test.length() <= 0.05 * doc.length() + 1);
        assertFalse(val.isEmpty() || test.isEmpty());
    }

    @Test
    void aSingleLineDocumentIsCutAtWordStarts() {
        // The State of the Union addresses are one line each.
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 500; i++) {
            sb.append("word").append(i).append(' ');
        }
        String doc = sb.toString();
        String train = R.part(doc, Split.TRAIN);
        String val = R.part(doc, Split.VALIDATION);
        String test = R.part(doc, Split.TEST);
        assertEquals(doc, train + val + test);
        assertTrue(train.endsWith(" ") && val.startsWith("word") && test.startsWith("word"));
        assertFalse(val.isEmpty() || test.isEmpty());
    }

    @Test
    void shortDocumentsGoWholeToOneSplitChosenByContent() {
        int[] seen = new int[3];
        for (int i = 0; i < 400; i++) {
            String doc = "short record " + i;
            int found = 0;
            for (Split s : new Split[] {Split.TRAIN, Split.VALIDATION, Split.TEST}) {
                String p = R.part(doc, s);
                if (!p.isEmpty()) {
                    assertEquals(doc, p);
                    assertEquals(SplitRule.wholeSplit(doc), s);
                    seen[s.ordinal()]++;
                    found++;
                }
            }
            assertEquals(1, found, "exactly one split holds a short document");
        }
        assertTrue(seen[0] > 300 && seen[1] > 5 && seen[2] > 5, "about 90/5/5: " + java.util.Arrays.toString(seen));
        assertEquals("", R.part("", Split.TEST));
    }

    @Test
    void deterministicAcrossCalls() {
        String doc = lines(77);
        assertEquals(R.part(doc, Split.VALIDATION), new SplitRule(0.05, 0.05).part(doc, Split.VALIDATION));
    }

    @Test
    void rejectsBadFractionsAndSplitNames() {
        assertThrows(IllegalArgumentException.class, () -> new SplitRule(0.5, 0.5));
        assertThrows(IllegalArgumentException.class, () -> new SplitRule(0, 0.1));
        assertEquals(Split.VALIDATION, Split.parse("valid"));
        var e = assertThrows(IllegalArgumentException.class, () -> Split.parse("dev"));
        assertTrue(e.getMessage().contains("dev"));
    }
}
