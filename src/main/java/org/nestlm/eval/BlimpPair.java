package org.nestlm.eval;

/** One BLiMP minimal pair: its paradigm (the {@code UID}) and the grammatical and ungrammatical sentence. */
public record BlimpPair(String paradigm, String good, String bad) {
}
