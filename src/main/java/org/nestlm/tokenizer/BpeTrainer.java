package org.nestlm.tokenizer;

import org.nestlm.data.Corpus;
import org.nestlm.data.Progress;
import org.nestlm.data.Split;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Byte-level BPE training, the algorithm of Hugging Face's {@code BpeTrainer} in Java:
 *
 * <ol>
 *   <li>pre-tokenize with GPT-2's expression and count distinct pieces ({@link WordCounts}, parallel);</li>
 *   <li>spell every distinct piece as its UTF-8 bytes; count adjacent pairs, weighted by piece frequency, and
 *       remember for each pair the words it occurs in;</li>
 *   <li>repeatedly take the most frequent pair from a priority queue (ties: smaller left id, then smaller right
 *       id, so the result is deterministic), merge it in just the words that contain it, and apply the change in
 *       pair counts of those words only.</li>
 * </ol>
 *
 * The queue is lazy: a count that grows is pushed again, and an entry whose count is out of date is re-queued with
 * the current count when it reaches the top. Each merge costs time proportional to the words it touches, not to
 * the corpus, which makes a 4096 vocabulary on the 20 MB default corpus a matter of seconds.
 */
public final class BpeTrainer {

    private BpeTrainer() {
    }

    /** Trains on one split of a corpus (normally {@link Split#TRAIN}, so held-out text stays unseen). */
    public static BpeModel train(Corpus corpus, Split split, BpeTrainerConfig cfg) throws IOException {
        WordCounts wc = WordCounts.count(corpus, split, cfg.threads(), cfg.progress());
        if (wc.words().length == 0) {
            throw new IllegalArgumentException("the " + split.label() + " split of " + corpus.description()
                    + " holds no text to train on");
        }
        return train(wc, cfg);
    }

    /** Statistics of one pair: its weighted count and the words it occurs in (may hold stale entries). */
    private static final class PairStat {
        long count;
        int[] words = new int[4];
        int size;

        void addWord(int w) {
            if (size > 0 && words[size - 1] == w) {
                return;                                // the same word reports a pair once per update
            }
            if (size == words.length) {
                words = Arrays.copyOf(words, size * 2);
            }
            words[size++] = w;
        }
    }

    private record Candidate(long count, long pair) {
    }

    public static BpeModel train(WordCounts wc, BpeTrainerConfig cfg) {
        int specials = cfg.specialTokens().size();
        List<String> tokens = new ArrayList<>(cfg.specialTokens());
        Map<String, Integer> idOf = new HashMap<>();
        for (int i = 0; i < specials; i++) {
            idOf.put(tokens.get(i), i);
        }
        for (int b = 0; b < 256; b++) {
            String s = String.valueOf(ByteLevel.charOf(b));
            idOf.put(s, tokens.size());
            tokens.add(s);
        }

        int n = wc.words().length;
        int[][] words = new int[n][];
        long[] freq = wc.counts();
        for (int w = 0; w < n; w++) {
            byte[] bytes = wc.words()[w].getBytes(StandardCharsets.UTF_8);
            int[] syms = new int[bytes.length];
            for (int i = 0; i < bytes.length; i++) {
                syms[i] = specials + (bytes[i] & 0xff);
            }
            words[w] = syms;
        }

        Map<Long, PairStat> pairs = new HashMap<>();
        for (int w = 0; w < n; w++) {
            int[] s = words[w];
            for (int i = 0; i + 1 < s.length; i++) {
                PairStat st = pairs.computeIfAbsent(key(s[i], s[i + 1]), k -> new PairStat());
                st.count += freq[w];
                st.addWord(w);
            }
        }
        PriorityQueue<Candidate> queue = new PriorityQueue<>(Math.max(16, pairs.size()), (x, y) ->
                x.count != y.count ? Long.compare(y.count, x.count) : Long.compare(x.pair, y.pair));
        pairs.forEach((k, st) -> queue.add(new Candidate(st.count, k)));

        List<BpeModel.Merge> merges = new ArrayList<>();
        java.util.Set<Long> mergedPairs = new java.util.HashSet<>();
        int[] visited = new int[n];                   // the merge number that last visited each word (from 1)
        int mergeNo = 0;
        int target = cfg.vocabSize();
        try (Progress bar = Progress.start(cfg.progress(), "merges", target - tokens.size())) {
            while (tokens.size() < target && !queue.isEmpty()) {
                Candidate top = queue.poll();
                PairStat st = pairs.get(top.pair);
                if (st == null || st.count != top.count) {
                    if (st != null && st.count >= cfg.minFrequency() && st.count < top.count) {
                        queue.add(new Candidate(st.count, top.pair));   // stale: re-queue at its real count
                    }
                    continue;
                }
                if (st.count < cfg.minFrequency()) {
                    break;                            // the best pair is too rare; so is every other
                }
                int a = (int) (top.pair >>> 32);
                int b = (int) top.pair;
                String merged = tokens.get(a) + tokens.get(b);
                // Two merge paths can spell the same bytes (a+bc, ab+c); like HF, reuse the existing id.
                Integer existing = idOf.get(merged);
                int c;
                if (existing != null) {
                    c = existing;
                } else {
                    c = tokens.size();
                    tokens.add(merged);
                    idOf.put(merged, c);
                    bar.step(1);
                }
                // A pair can come back when a reused id recreates it; HF keeps one rank per pair, so list it once.
                if (mergedPairs.add(top.pair)) {
                    merges.add(new BpeModel.Merge(a, b, c));
                }
                applyMerge(a, b, c, st, words, freq, pairs, queue, visited, ++mergeNo);
            }
        }
        return new BpeModel(tokens, merges, specials);
    }

    /** Rewrites every word holding (a, b) and applies the pair-count changes of those words. */
    private static void applyMerge(int a, int b, int c, PairStat st, int[][] words, long[] freq,
                                   Map<Long, PairStat> pairs, PriorityQueue<Candidate> queue, int[] visited,
                                   int mergeNo) {
        Map<Long, Long> delta = new HashMap<>();
        int[] list = st.words;
        int size = st.size;
        for (int j = 0; j < size; j++) {
            int w = list[j];
            if (visited[w] == mergeNo) {
                continue;
            }
            visited[w] = mergeNo;
            int[] s = words[w];
            int[] t = mergeWord(s, a, b, c);
            if (t == s) {
                continue;                              // stale entry: the pair left this word in an earlier merge
            }
            long f = freq[w];
            for (int i = 0; i + 1 < s.length; i++) {
                delta.merge(key(s[i], s[i + 1]), -f, Long::sum);
            }
            for (int i = 0; i + 1 < t.length; i++) {
                long k = key(t[i], t[i + 1]);
                delta.merge(k, f, Long::sum);
                if (t[i] == c || t[i + 1] == c) {
                    pairs.computeIfAbsent(k, x -> new PairStat()).addWord(w);
                }
            }
            words[w] = t;
        }
        for (var e : delta.entrySet()) {
            long d = e.getValue();
            if (d == 0) {
                continue;
            }
            PairStat ps = pairs.computeIfAbsent(e.getKey(), x -> new PairStat());
            ps.count += d;
            if (d > 0) {
                queue.add(new Candidate(ps.count, e.getKey()));
            } else if (ps.count == 0) {
                pairs.remove(e.getKey());              // merged away everywhere: drop its word list too
            }
        }
    }

    /** The word with every (a, b) replaced by c, left to right without overlap; {@code s} itself if none. */
    static int[] mergeWord(int[] s, int a, int b, int c) {
        int[] t = null;
        int len = 0;
        for (int i = 0; i < s.length; i++) {
            if (i + 1 < s.length && s[i] == a && s[i + 1] == b) {
                if (t == null) {
                    t = new int[s.length - 1];
                    System.arraycopy(s, 0, t, 0, i);
                    len = i;
                }
                t[len++] = c;
                i++;
            } else if (t != null) {
                t[len++] = s[i];
            }
        }
        return t == null ? s : Arrays.copyOf(t, len);
    }

    static long key(int a, int b) {
        return ((long) a << 32) | (b & 0xffffffffL);
    }
}
