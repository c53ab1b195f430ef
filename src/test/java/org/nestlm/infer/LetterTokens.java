package org.nestlm.infer;

/**
 * A toy tokenizer for tests: token id i is the letter {@code 'a' + i % 26}, so streamed text and stop
 * positions are easy to predict. (A top-level class: surefire's {@code -Dtest} patterns would otherwise
 * pick up an anonymous class as a test.)
 */
public final class LetterTokens implements TokenText {

    public String decode(int[] ids) {
        StringBuilder b = new StringBuilder();
        for (int id : ids) {
            b.append((char) ('a' + id % 26));
        }
        return b.toString();
    }

    public int[] encode(String text) {
        return text.chars().map(c -> c - 'a').toArray();
    }
}
