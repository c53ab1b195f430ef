package org.nestlm.tokenizer;

import org.nestlm.data.Corpus;
import org.nestlm.data.Document;
import org.nestlm.data.Progress;
import org.nestlm.data.Split;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The pre-tokenized corpus as BPE training needs it: every distinct piece ("word") once, with how often it occurs.
 * BPE statistics only depend on these counts, so the merge loop works on ~10^5 distinct words instead of ~10^7
 * pieces.
 *
 * @param words  distinct pieces, sorted (so training does not depend on thread timing or hash order)
 * @param counts occurrences of {@code words[i]}
 */
public record WordCounts(String[] words, long[] counts) {

    /** Chunk size for parallel pre-tokenization; chunks cut where the pieces do not change ({@link PreTokenizer}). */
    private static final int CHUNK = 1 << 16;

    public long totalPieces() {
        return Arrays.stream(counts).sum();
    }

    /** Pre-tokenizes the documents of a split with {@code threads} threads and counts the pieces. */
    public static WordCounts count(Corpus corpus, Split split, int threads, boolean progress) throws IOException {
        List<String> chunks = new ArrayList<>();
        long[] chars = new long[1];
        corpus.forEach(split, (Document d) -> {
            chunks.addAll(PreTokenizer.chunks(d.text(), CHUNK));
            chars[0] += d.text().length();
        });
        return count(chunks, chars[0], threads, progress);
    }

    static WordCounts count(List<String> chunks, long totalChars, int threads, boolean progress) {
        AtomicInteger next = new AtomicInteger();
        List<Map<String, long[]>> partial = new ArrayList<>();
        try (Progress bar = Progress.start(progress, "pre-tokenize", totalChars, "MB", 1_000_000);
             ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<Map<String, long[]>>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                futures.add(pool.submit(() -> {
                    Map<String, long[]> local = new HashMap<>();
                    for (int i; (i = next.getAndIncrement()) < chunks.size(); ) {
                        String chunk = chunks.get(i);
                        PreTokenizer.forEachPiece(chunk, p -> {
                            long[] c = local.get(p);
                            if (c == null) {
                                local.put(p, new long[] {1});
                            } else {
                                c[0]++;
                            }
                        });
                        bar.step(chunk.length());
                    }
                    return local;
                }));
            }
            for (Future<Map<String, long[]>> f : futures) {
                partial.add(f.get());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while pre-tokenizing", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("pre-tokenizing failed: " + e.getCause(), e.getCause());
        }
        Map<String, long[]> all = partial.isEmpty() ? new HashMap<>() : partial.getFirst();
        for (int i = 1; i < partial.size(); i++) {
            for (var e : partial.get(i).entrySet()) {
                long[] c = all.get(e.getKey());
                if (c == null) {
                    all.put(e.getKey(), e.getValue());
                } else {
                    c[0] += e.getValue()[0];
                }
            }
        }
        String[] words = all.keySet().toArray(new String[0]);
        Arrays.sort(words);
        long[] counts = new long[words.length];
        for (int i = 0; i < words.length; i++) {
            counts[i] = all.get(words[i])[0];
        }
        return new WordCounts(words, counts);
    }
}
