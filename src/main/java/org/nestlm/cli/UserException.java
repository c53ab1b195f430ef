package org.nestlm.cli;

/** A failure caused by the user's input; the CLI prints its message alone, without a stack trace. */
public final class UserException extends RuntimeException {
    public UserException(String message) {
        super(message);
    }
}
