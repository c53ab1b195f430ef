package org.nestlm.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Any failure to read or validate a checkpoint file. The message always starts with the file (or directory) and
 * then names the fault, and the tensor where one is involved, e.g.
 * {@code "/ckpt/model.safetensors: tensor 'a.weight': shape [2, 3] of BF16 needs 12 bytes but data_offsets give 10"}.
 */
public class CheckpointFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    /** The file or directory at fault; null only when built from a bare message. */
    private final transient Path file;

    public CheckpointFormatException(Path file, String fault) {
        super(file + ": " + fault);
        this.file = file;
    }

    public CheckpointFormatException(Path file, String fault, Throwable cause) {
        super(file + ": " + fault, cause);
        this.file = file;
    }

    public CheckpointFormatException(String message) {
        super(message);
        this.file = null;
    }

    public CheckpointFormatException(String message, Throwable cause) {
        super(message, cause);
        this.file = null;
    }

    /** The file or directory the message names, or null if the exception was built from a bare message. */
    public Path file() {
        return file;
    }
}
