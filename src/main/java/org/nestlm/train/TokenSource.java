package org.nestlm.train;

import java.nio.IntBuffer;

/**
 * A stream of token ids to train or evaluate on, with the number of UTF-8 bytes of text it encodes
 * (for bits per byte). Backed by a (memory-mapped) int buffer: corpora never need to fit in the heap.
 *
 * @param ids   token ids, position 0 … limit−1
 * @param bytes UTF-8 bytes of the text the ids encode
 */
public record TokenSource(IntBuffer ids, long bytes) {

    public TokenSource {
        ids = ids.duplicate();
    }

    public static TokenSource of(int[] ids, long bytes) {
        return new TokenSource(IntBuffer.wrap(ids), bytes);
    }

    public int size() {
        return ids.limit();
    }

    public int get(int i) {
        return ids.get(i);
    }

    /** Average UTF-8 bytes per token. */
    public double bytesPerToken() {
        return (double) bytes / Math.max(1, size());
    }
}
