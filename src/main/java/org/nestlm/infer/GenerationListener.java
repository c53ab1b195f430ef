package org.nestlm.infer;

/**
 * Receives a generation as it happens. An exception thrown here (a client that went away) aborts the
 * generation and propagates to the caller.
 */
@FunctionalInterface
public interface GenerationListener {

    /**
     * One generated token, and the text that became final with it: empty while an incomplete UTF-8 sequence
     * or a possible stop-string prefix is held back; null without a tokenizer. The held-back text arrives
     * with {@code token = -1} at the end.
     */
    void onToken(int token, String textDelta);
}
