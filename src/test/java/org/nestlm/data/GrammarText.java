package org.nestlm.data;

import java.util.Random;

/** A generated training text for tests: large enough to learn from, small enough to tokenize in a second. */
public final class GrammarText {

    private GrammarText() {
    }

    /** Sentences of a small grammar: word order is fixed, words within a slot are random, so context predicts a lot. */
    public static String text(long seed, int sentences) {
        String[][] slots = {
                {"the", "a", "every", "one"},
                {"old", "young", "quiet", "bright", "tired", "clever", "small", "green"},
                {"sailor", "captain", "whale", "king", "farmer", "poet", "river", "city", "bird", "horse"},
                {"saw", "found", "followed", "remembered", "carried", "praised"},
                {"the", "a"},
                {"ship", "letter", "garden", "storm", "lamp", "bridge", "crown", "song"},
                {"at dawn.", "in silence.", "with great care.", "before the winter.", "near the sea."},
        };
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < sentences; i++) {
            for (int s = 0; s < slots.length; s++) {
                sb.append(s == 0 && i % 7 != 0 ? capital(slots[s][r.nextInt(slots[s].length)]) : slots[s][r.nextInt(slots[s].length)]);
                sb.append(s == slots.length - 1 ? "" : " ");
            }
            sb.append(i % 5 == 4 ? "\n" : " ");
        }
        return sb.toString();
    }

    private static String capital(String w) {
        return Character.toUpperCase(w.charAt(0)) + w.substring(1);
    }
}
