package org.nestlm.tokenizer;

import java.util.List;
import java.util.Random;

/** Deterministic training text for tokenizer tests: English-like prose with numbers, accents, CJK and emoji. */
public final class TestTexts {

    private static final String[] WORDS = ("the of and to a in that is was he for it with as his on be at by i this had "
            + "not are but from or have an they which one you were her all she there would their we him been has when "
            + "who will more no if out so said what up its about into than them can only other new some could time "
            + "these two may then do first any my now such like our over man me even most made after also did many "
            + "café naïve façade résumé Zürich München São Paulo Ελλάδα москва 東京 大阪 🙂 🚀 don't it's we're I'll "
            + "they've she'd 1790 2021 3.14 42 100,000").split(" ");

    private TestTexts() {
    }

    /** About {@code sentences} sentences, some separated by blank lines, some with runs of spaces or tabs. */
    public static String prose(int sentences, long seed) {
        Random rnd = new Random(seed);
        StringBuilder sb = new StringBuilder();
        for (int s = 0; s < sentences; s++) {
            int n = 4 + rnd.nextInt(12);
            for (int i = 0; i < n; i++) {
                String w = WORDS[(int) Math.min(WORDS.length - 1, Math.abs(rnd.nextGaussian()) * WORDS.length / 3)];
                if (i == 0) {
                    w = Character.toUpperCase(w.charAt(0)) + w.substring(1);
                }
                sb.append(w);
                if (i < n - 1) {
                    sb.append(rnd.nextInt(30) == 0 ? "  " : rnd.nextInt(40) == 0 ? ", " : " ");
                }
            }
            sb.append(rnd.nextInt(5) == 0 ? "!" : ".");
            int gap = rnd.nextInt(10);
            sb.append(gap == 0 ? "\n\n" : gap == 1 ? "\n" : gap == 2 ? "\n\t" : " ");
        }
        return sb.toString();
    }

    /** Strings that stress round trips: non-ASCII, emoji (surrogate pairs, ZWJ), newlines, space runs, specials. */
    public static final List<String> TRICKY = List.of(
            "", " ", "  ", "\n", "\n\n\n", "a\r\nb\r\n", "\t\tindented\n", "trailing   ", "   leading",
            "Hello, world! It's 2024 and we're here.",
            "café naïve façade — “quotes” and ‘single’ … ellipsis",
            "Ελληνικά, русский, 中文 日本語 한국어, עברית, العربية",
            "emoji 🙂🚀 family 👨‍👩‍👧 flag 🇩🇪 skin 👍🏽",
            "numbers 3.14159 1,000,000 1e-9 0x1F",
            "tabs\tand\u00a0nbsp\u2003em space\u3000ideographic",
            "mixed   runs \n  of  \n\n   whitespace \t\n",
            "ZWJ\u200dzero\u200bwidth and combining e\u0301",
            "text with <|endoftext|> inside and <|bos|> too",
            "symbols !@#$%^&*()_+-=[]{}|;':\",./<>?`~ \\",
            "control \u0001\u0007\u001b chars");
}
