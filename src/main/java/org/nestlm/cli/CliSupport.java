package org.nestlm.cli;

import org.nestlm.io.DType;

import java.util.Locale;

/** Small formatting and parsing helpers shared by the commands. */
final class CliSupport {

    private CliSupport() {
    }

    /**
     * The one-line message of an expected failure. A file-system exception the JDK threw for these types is only a
     * path ({@code error: run/train_state.tmp}): its type says what went wrong, so it is added.
     */
    static String errorMessage(Exception e) {
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() == null) {
            String what = switch (f) {
                case java.nio.file.NoSuchFileException x -> "no such file or directory";
                case java.nio.file.FileAlreadyExistsException x -> "already exists";
                case java.nio.file.DirectoryNotEmptyException x -> "directory not empty";
                case java.nio.file.NotDirectoryException x -> "not a directory";
                case java.nio.file.AccessDeniedException x -> "permission denied";
                default -> null;
            };
            // the project's own throws put their explanation after "path: " in the file argument
            if (what != null && f.getFile() != null && f.getMessage().equals(f.getFile()) && !f.getFile().contains(": ")) {
                return f.getMessage() + ": " + what;
            }
        }
        return e.getMessage();
    }

    /** f32 / bf16 / f16 → the on-disk weight dtype. */
    static DType weightDType(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "f32", "fp32", "float32" -> DType.F32;
            case "bf16", "bfloat16" -> DType.BF16;
            case "f16", "fp16", "float16" -> DType.F16;
            default -> throw new UserException("--dtype must be f32, bf16 or f16, got '" + s + "'");
        };
    }

    /** 7208440 → "7.21 M"; exact digits follow in parentheses where it matters. */
    static String count(long n) {
        return org.nestlm.util.Units.count(n);
    }

    /** Bytes in binary units: 14.4 MiB. */
    static String bytes(long b) {
        return org.nestlm.util.Units.bytes(b, 1);
    }

    /** Parses "1,2,3" (spaces allowed) into token ids. */
    static long[] parseIds(String s) {
        String[] parts = s.trim().split("[,\\s]+");
        long[] ids = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Long.parseLong(parts[i]);
            } catch (NumberFormatException e) {
                throw new UserException("--ids: '" + parts[i] + "' is not a token id");
            }
            if (ids[i] < 0) {
                throw new UserException("--ids: token id " + ids[i] + " is negative");
            }
        }
        return ids;
    }
}
