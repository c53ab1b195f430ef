package org.nestlm.eval;

/**
 * Word counts for per-word perplexity. Plain text: whitespace-separated words. WikiText: the benchmark's own count,
 * whitespace-separated words plus one end-of-line token per line (217,646 for WikiText-2 valid, docs/CORPORA.md §5.2), so
 * that per-word perplexities are comparable with published word-level numbers. {@code <unk>} and {@code @-@} are
 * words there, and are kept as they are in the text the model scores.
 */
public final class WordCount {

    private WordCount() {
    }

    public static long whitespaceWords(CharSequence text) {
        long n = 0;
        boolean inWord = false;
        for (int i = 0; i < text.length(); i++) {
            boolean space = Character.isWhitespace(text.charAt(i));
            if (!space && !inWord) {
                n++;
            }
            inWord = !space;
        }
        return n;
    }

    /** Lines as WikiText counts them: newline characters (every line of the files ends in one). */
    public static long lines(CharSequence text) {
        long n = 0;
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) == '\n') {
                n++;
            }
        }
        return n;
    }

    public static long words(CharSequence text, boolean wikitext) {
        return whitespaceWords(text) + (wikitext ? lines(text) : 0);
    }
}
