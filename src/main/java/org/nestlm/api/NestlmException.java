package org.nestlm.api;

import java.nio.file.Path;

/**
 * A failure the caller can act on: an unreadable or invalid checkpoint file, or a bad argument. The message
 * names the file ({@link #file()}) or the argument ({@link #field()}, in the names the OpenAI API and the CLI
 * use: {@code budget}, {@code max_params}, {@code prompt}, {@code temperature}, …) and what is wrong with it.
 */
public final class NestlmException extends Exception {

    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String field;

    private NestlmException(String message, Path file, String field, Throwable cause) {
        super(message, cause);
        this.file = file;
        this.field = field;
    }

    /** A fault in {@code file} (a checkpoint directory or a file in it); the message should begin with it. */
    static NestlmException inFile(Path file, String message, Throwable cause) {
        return new NestlmException(message, file, null, cause);
    }

    static NestlmException inFile(Path file, String message) {
        return inFile(file, message, null);
    }

    /** A bad value of argument {@code field}. */
    static NestlmException badField(String field, String message) {
        return new NestlmException(message, null, field, null);
    }

    /** The file or directory at fault, or null when the fault is an argument. */
    public Path file() {
        return file;
    }

    /** The argument at fault ({@code budget}, {@code max_memory}, {@code prompt}, …), or null for a file fault. */
    public String field() {
        return field;
    }
}
