package org.nestlm.api;

/**
 * Receives a generation as it happens, on the generating thread. An exception thrown here ends the generation
 * and reaches the caller of {@link TextModel#stream}.
 */
@FunctionalInterface
public interface TokenListener {

    /**
     * One generated token and the text that became final with it: empty while an incomplete UTF-8 character or
     * the possible start of a stop string is held back (it arrives later, at the latest with {@code tokenId = -1}
     * at the end); null for a model without a tokenizer.
     */
    void onToken(int tokenId, String text);
}
