package org.nestlm.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * Atomic file writing used by every writer in the project: the content goes to a temp file in the target's
 * directory (same file system, so the rename is atomic), is forced to disk, and is then renamed over the target.
 * Readers see either the old file or the complete new one, never a partial write; if the body fails the temp file
 * is removed and an existing target is left untouched.
 *
 * <p>The temp file is {@code .<name>.<random hex>.tmp}, created with default permissions (not the 0600 of
 * {@link Files#createTempFile}), so the final file gets the usual umask permissions. A process killed mid-write
 * leaves it behind; {@link #isTemporary} recognises such leftovers so that the next run can remove them.
 */
public final class AtomicFiles {

    private AtomicFiles() {
    }

    /** A consumer that may throw IOException. */
    @FunctionalInterface
    public interface IOConsumer<T> {
        void accept(T t) throws IOException;
    }

    /** {@code .<name>.<hex>.tmp}: the temp file names {@link #write} uses. */
    private static final Pattern TEMPORARY = Pattern.compile("\\..+\\.[0-9a-f]{1,16}\\.tmp");

    /** Whether {@code fileName} is one of this class's temp files (a leftover when no write is in progress). */
    public static boolean isTemporary(String fileName) {
        return TEMPORARY.matcher(fileName).matches();
    }

    /** Copies {@code source} onto {@code target} atomically. */
    public static void copy(Path source, Path target) throws IOException {
        write(target, ch -> {
            try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ)) {
                long size = in.size();
                for (long done = 0; done < size; ) {
                    done += in.transferTo(done, size - done, ch);
                }
            }
        });
    }

    /** Writes {@code content} as UTF-8. */
    public static void writeString(Path file, String content) throws IOException {
        writeBytes(file, content.getBytes(StandardCharsets.UTF_8));
    }

    public static void writeBytes(Path file, byte[] content) throws IOException {
        write(file, ch -> writeFully(ch, ByteBuffer.wrap(content)));
    }

    /**
     * Runs {@code body} on a fresh channel to a temp file next to {@code file}, then forces and renames it onto
     * {@code file}. The body writes from position 0; it must not close the channel. Creates missing parent
     * directories.
     */
    public static void write(Path file, IOConsumer<FileChannel> body) throws IOException {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        if (Files.isDirectory(target)) {
            // the rename would fail with the temp file's name in the message
            throw new IOException(target + " is a directory; give a file name");
        }
        Files.createDirectories(dir);
        Path temp = createTemp(dir, target.getFileName().toString());
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                body.accept(ch);
                ch.force(true);
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                // Some file systems (e.g. certain network mounts) cannot rename atomically; a plain replace is
                // the best they offer.
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
            syncDirectory(dir);
        } finally {
            if (!done) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException suppressed) {
                    // The original failure matters more than a leftover temp file.
                }
            }
        }
    }

    /** Writes all remaining bytes of {@code buf} (a single channel write may be partial). */
    static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    private static Path createTemp(Path dir, String name) throws IOException {
        for (int attempt = 0; ; attempt++) {
            String suffix = Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
            Path temp = dir.resolve("." + name + "." + suffix + ".tmp");
            try {
                FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return temp;
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 100) {
                    throw e;
                }
            }
        }
    }

    /**
     * Makes the rename itself durable on POSIX file systems. Opening a directory is not supported everywhere
     * (e.g. Windows); there the rename is as durable as the platform allows, so failures are ignored.
     */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // best effort, see above
        }
    }
}
