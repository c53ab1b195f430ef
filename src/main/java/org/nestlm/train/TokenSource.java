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

    /**
     * A view of a memory-mapped token cache (no copy into the heap); valid while {@code ids} is open. The byte
     * count is the UTF-8 size of the split's text, so bits per byte count the separators as free.
     */
    public static TokenSource of(org.nestlm.tokenizer.TokenIds ids) {
        return new TokenSource(ids.buffer(), ids.info().bytes());
    }

    /** Unigram entropy of the ids in nats per token: the loss of the best model that ignores context. */
    public double unigramEntropy() {
        int max = 0;
        for (int i = 0; i < size(); i++) {
            max = Math.max(max, ids.get(i));
        }
        long[] c = new long[max + 1];
        for (int i = 0; i < size(); i++) {
            c[ids.get(i)]++;
        }
        double h = 0, n = size();
        for (long k : c) {
            if (k > 0) {
                h -= k / n * Math.log(k / n);
            }
        }
        return h;
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
