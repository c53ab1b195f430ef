package org.nestlm.data;

import java.nio.charset.StandardCharsets;

/**
 * The deterministic train / validation / test split of the default corpus and of the user's own text: <b>by the
 * tail of each document</b>.
 *
 * <ul>
 *   <li>Every document of n characters (UTF-16 units) is cut twice: near {@code a = ceil((1 - validation - test) n)}
 *       and near {@code b = ceil((1 - test) n)}. The first cut is the first line start in {@code [a, b)}, or if
 *       that range holds none, the first word start (a non-space character after whitespace) in it; the second
 *       cut likewise in {@code [b, n)}. The head goes to train, the middle to validation, the tail to test; the
 *       three parts concatenate to the document. Word starts matter because the State of the Union addresses are
 *       single lines.</li>
 *   <li>A document with no such boundary in one of the ranges (very short documents, short JSONL records) goes
 *       whole to one split, chosen by its content: the first 8 bytes of SHA-256 of its UTF-8 text, unsigned, modulo
 *       20 — 0 is test, 1 is validation, the rest train (5 % / 5 % / 90 % of such documents). Duplicates therefore
 *       land in the same split.</li>
 * </ul>
 *
 * Cutting every document rather than holding out whole documents keeps all authors and eras of the default
 * corpus (18 books, 233 addresses) in every split, and works for a single user file too. The split depends on
 * nothing but the text, so it is the same on every machine and for every file order.
 *
 * @param validation fraction of each document for validation, in (0, 1)
 * @param test       fraction of each document for test, in (0, 1)
 */
public record SplitRule(double validation, double test) {

    /** 90 % train, 5 % validation, 5 % test. */
    public static final SplitRule DEFAULT = new SplitRule(0.05, 0.05);

    /** Short documents are assigned whole: one bucket of this many to test, one to validation. */
    static final int WHOLE_BUCKETS = 20;

    public SplitRule {
        if (!(validation > 0 && test > 0 && validation + test < 1)) {
            throw new IllegalArgumentException("split fractions must be positive and sum below 1, got validation "
                    + validation + ", test " + test);
        }
    }

    /** The part of {@code text} that belongs to {@code split}; empty when none does. */
    public String part(String text, Split split) {
        if (split == Split.ALL) {
            return text;
        }
        int n = text.length();
        int a = (int) Math.ceil((1 - validation - test) * n);
        int b = (int) Math.ceil((1 - test) * n);
        int c1 = boundary(text, a, b);
        int c2 = boundary(text, b, n);
        if (c1 > 0 && c2 > c1) {
            return switch (split) {
                case TRAIN -> text.substring(0, c1);
                case VALIDATION -> text.substring(c1, c2);
                case TEST -> text.substring(c2);
                case ALL -> text;
            };
        }
        return wholeSplit(text) == split ? text : "";
    }

    /** Where a document too short to cut goes. */
    static Split wholeSplit(String text) {
        byte[] h = Hashing.sha256().digest(text.getBytes(StandardCharsets.UTF_8));
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (h[i] & 0xff);
        }
        int bucket = (int) Long.remainderUnsigned(v, WHOLE_BUCKETS);
        return bucket == 0 ? Split.TEST : bucket == 1 ? Split.VALIDATION : Split.TRAIN;
    }

    /** The first line start in [from, to), else the first word start there, else -1. */
    static int boundary(String text, int from, int to) {
        for (int q = Math.max(from, 1); q < to; q++) {
            if (text.charAt(q - 1) == '\n') {
                return q;
            }
        }
        for (int q = Math.max(from, 1); q < to; q++) {
            if (Character.isWhitespace(text.charAt(q - 1)) && !Character.isWhitespace(text.charAt(q))) {
                return q;
            }
        }
        return -1;
    }
}
