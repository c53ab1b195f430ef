package org.nestlm.tokenizer;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A read-only, memory-mapped view of a token cache file: {@code size()} little-endian int32 token ids. The mapping
 * is shared (any thread may read) and stays valid until {@link #close()}; it costs no heap however large the corpus.
 */
public final class TokenIds implements AutoCloseable {

    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Arena arena;
    private final MemorySegment segment;
    private final Path file;
    private final TokenCacheInfo info;

    private TokenIds(Arena arena, MemorySegment segment, Path file, TokenCacheInfo info) {
        this.arena = arena;
        this.segment = segment;
        this.file = file;
        this.info = info;
    }

    static TokenIds map(Path file, TokenCacheInfo info) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long bytes = ch.size();
            if (bytes != info.tokens() * Integer.BYTES) {
                throw new IOException(file + ": " + bytes + " bytes, but its sidecar says " + info.tokens()
                        + " tokens");
            }
            // A zero-length mapping is legal in FFM, so an empty split needs no special case.
            return new TokenIds(arena, ch.map(FileChannel.MapMode.READ_ONLY, 0, bytes, arena), file, info);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Number of token ids. */
    public long size() {
        return segment.byteSize() / Integer.BYTES;
    }

    public int get(long index) {
        return segment.getAtIndex(LE_INT, index);
    }

    /** Copies {@code length} ids starting at {@code from} into {@code dst[0..length)}. */
    public void read(long from, int[] dst, int length) {
        MemorySegment.copy(segment, LE_INT, from * Integer.BYTES, dst, 0, length);
    }

    /** The mapped bytes: {@code size()} little-endian int32 values. */
    public MemorySegment segment() {
        return segment;
    }

    /** An IntBuffer view (little-endian); only for caches under 2 GiB, the limit of NIO buffers. */
    public IntBuffer buffer() {
        if (segment.byteSize() > Integer.MAX_VALUE) {
            throw new UnsupportedOperationException(file + ": " + size()
                    + " tokens is too large for an IntBuffer; use segment() or get()");
        }
        return segment.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
    }

    public Path file() {
        return file;
    }

    /** What the cache holds: corpus, split, tokenizer, counts. */
    public TokenCacheInfo info() {
        return info;
    }

    @Override
    public void close() {
        arena.close();
    }
}
