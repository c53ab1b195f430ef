package org.nestlm.data;

import java.util.Locale;

/**
 * Which part of a corpus to read. {@link #ALL} is every document whole (no split applied); the other three are
 * disjoint and together make up {@code ALL}. How a corpus divides its text is up to the corpus: see
 * {@link SplitRule} for user text and the default corpus, {@link BrownCorpus} for the out-of-domain set.
 */
public enum Split {
    TRAIN, VALIDATION, TEST, ALL;

    /** The name used on the command line and in cache sidecars. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Accepts train, validation (valid, val), test and all, in any case. */
    public static Split parse(String s) {
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "train" -> TRAIN;
            case "validation", "valid", "val" -> VALIDATION;
            case "test" -> TEST;
            case "all" -> ALL;
            default -> throw new IllegalArgumentException(
                    "split must be train, validation, test or all, got '" + s + "'");
        };
    }
}
