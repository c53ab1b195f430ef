package org.nestlm.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A memory-mapped single {@code .safetensors} file.
 *
 * <p>The whole file is mapped read-only into a shared arena, so tensors can be read from any thread without
 * copying; {@link #close()} unmaps it, after which every {@link TensorEntry#data()} of this file is invalid.
 * The header is fully validated on open (see {@link SafetensorsHeader}); a file that opens is safe to read.
 */
public final class SafetensorsFile implements AutoCloseable {

    private final Path path;
    private final Arena arena;
    private final Map<String, TensorEntry> tensors;
    private final Map<String, String> metadata;
    private final long headerBytes;
    private boolean closed;

    private SafetensorsFile(Path path, Arena arena, Map<String, TensorEntry> tensors, Map<String, String> metadata,
            long headerBytes) {
        this.path = path;
        this.arena = arena;
        this.tensors = tensors;
        this.metadata = metadata;
        this.headerBytes = headerBytes;
    }

    /**
     * Maps and validates {@code file}.
     *
     * @throws NoSuchFileException        if the file does not exist
     * @throws CheckpointFormatException  if the file is not a valid safetensors file (the message says why)
     */
    public static SafetensorsFile open(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "safetensors file does not exist");
        }
        if (!Files.isRegularFile(file)) {
            throw new CheckpointFormatException(file, notRegular(file));
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new CheckpointFormatException(file, "truncated: " + size
                        + " bytes, shorter than the 8-byte header length");
            }
            Arena arena = Arena.ofShared();
            try {
                // The mapping outlives the channel; it is released when the arena closes.
                MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                long n = all.get(LittleEndian.I64, 0);
                if (n < 0 || n > SafetensorsHeader.MAX_HEADER_BYTES) {
                    throw new CheckpointFormatException(file, "header length " + Long.toUnsignedString(n)
                            + " exceeds the limit of " + SafetensorsHeader.MAX_HEADER_BYTES + " bytes");
                }
                if (n > size - 8) {
                    throw new CheckpointFormatException(file, "truncated: header length " + n
                            + " goes beyond the end of the file (" + size + " bytes)");
                }
                byte[] json = all.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
                long dataStart = 8 + n;
                SafetensorsHeader header = SafetensorsHeader.parse(json, file, size - dataStart);
                MemorySegment data = all.asSlice(dataStart).asReadOnly();
                Map<String, TensorEntry> entries = new LinkedHashMap<>();
                for (SafetensorsHeader.Spec s : header.tensors()) {
                    MemorySegment slice = data.asSlice(s.begin(), s.end() - s.begin());
                    entries.put(s.name(), new TensorEntry(s.name(), s.dtype(), s.shape(), slice, file));
                }
                return new SafetensorsFile(file, arena, Collections.unmodifiableMap(entries), header.metadata(), n);
            } catch (Throwable t) {
                arena.close();
                throw t;
            }
        }
    }

    /** Why a path that exists cannot be read as a safetensors file: a directory, or a FIFO, socket or device. */
    static String notRegular(Path file) {
        return Files.isDirectory(file) ? "is a directory, not a safetensors file"
                : "is not a regular file (a FIFO, socket or device?), so it cannot be a safetensors file";
    }

    /** Tensors in header order (unmodifiable). */
    public Map<String, TensorEntry> tensors() {
        return tensors;
    }

    /** The {@code __metadata__} map (unmodifiable), empty if the header has none. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The tensor called {@code name}, or a {@link CheckpointFormatException} naming this file and the tensor. */
    public TensorEntry tensor(String name) throws CheckpointFormatException {
        TensorEntry e = tensors.get(name);
        if (e == null) {
            throw new CheckpointFormatException(path, "missing tensor '" + name + "'");
        }
        return e;
    }

    /** The file this was opened from. */
    public Path path() {
        return path;
    }

    /** N, the JSON header length in bytes; the data section starts at byte {@code 8 + N}. */
    public long headerBytes() {
        return headerBytes;
    }

    /** Unmaps the file. Idempotent. Tensor data of this file must not be used afterwards. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + tensors.size() + " tensors]";
    }
}
