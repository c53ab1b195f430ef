package org.nestlm.io;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Element types of the safetensors format (the {@code "dtype"} string of a header entry).
 *
 * <p>FP8 variants ({@code F8_E4M3}, {@code F8_E5M2}) exist in some repositories but are not needed by nestlm;
 * they are rejected by {@link #parse} with a message that names them, rather than being misread.
 */
public enum DType {
    F64(8), F32(4), F16(2), BF16(2), I64(8), I32(4), I16(2), I8(1), U8(1), BOOL(1);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element as stored in the file. */
    public int byteSize() {
        return byteSize;
    }

    /** True for the types {@link TensorEntry#getFloat} can read: F64, F32, F16, BF16. */
    public boolean isFloatingPoint() {
        return this == F64 || this == F32 || this == F16 || this == BF16;
    }

    /**
     * Parses a header dtype string (case-sensitive, as the format defines it).
     *
     * @param file   the file being read, for the error message
     * @param tensor the tensor whose entry holds the dtype, for the error message
     */
    public static DType parse(String name, Path file, String tensor) throws CheckpointFormatException {
        if (name != null) {
            for (DType t : values()) {
                if (t.name().equals(name)) {
                    return t;
                }
            }
        }
        String known = Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
        throw new CheckpointFormatException(file,
                "tensor '" + tensor + "' has unknown dtype '" + name + "' (supported: " + known + ")");
    }
}
