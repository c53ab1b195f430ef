package org.nestlm.train;

/** A gradient held inf or NaN; the optimizer applied no update. */
public final class NonFiniteGradientException extends IllegalStateException {
    public NonFiniteGradientException(String message) {
        super(message);
    }
}
