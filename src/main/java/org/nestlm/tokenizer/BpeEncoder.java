package org.nestlm.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Encodes text with a {@link BpeModel} in Java, the way Hugging Face's tokenizers run the tokenizer.json that
 * {@link TokenizerJson} writes: special tokens are matched in the raw text first (leftmost, longest), the rest is
 * cut into GPT-2 pieces, every piece is spelled in bytes, and merges are applied lowest rank first, each one to
 * all its non-overlapping occurrences left to right. Tests check that the ids equal DJL's.
 *
 * <p>Thread-safe; a cache of encoded pieces makes repeated words free.
 */
public final class BpeEncoder {

    private final BpeModel model;
    /** pair key → rank &lt;&lt; 32 | result id. */
    private final Map<Long, Long> ranks = new HashMap<>();
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();
    private static final int CACHE_LIMIT = 1 << 18;

    public BpeEncoder(BpeModel model) {
        this.model = model;
        List<BpeModel.Merge> merges = model.merges();
        for (int r = 0; r < merges.size(); r++) {
            BpeModel.Merge m = merges.get(r);
            // put, not putIfAbsent: HF builds its merge map the same way, so a repeated pair keeps its last rank
            ranks.put(BpeTrainer.key(m.left(), m.right()), ((long) r << 32) | m.result());
        }
    }

    public int[] encode(String text) {
        IntList out = new IntList();
        int start = 0;
        while (start < text.length()) {
            int at = -1;
            int special = -1;
            for (int s = 0; s < model.specials(); s++) {
                String tok = model.tokens().get(s);
                int i = text.indexOf(tok, start);
                if (i >= 0 && (at < 0 || i < at || (i == at && tok.length() > model.tokens().get(special).length()))) {
                    at = i;
                    special = s;
                }
            }
            int end = at < 0 ? text.length() : at;
            PreTokenizer.forEachPiece(text.substring(start, end), p -> out.addAll(piece(p)));
            if (at < 0) {
                break;
            }
            out.add(special);
            start = at + model.tokens().get(special).length();
        }
        return out.toArray();
    }

    /** Token ids back to text; invalid UTF-8 (only from cut sequences) becomes U+FFFD, as in HF's decoder. */
    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder();
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        for (int id : ids) {
            if (id < model.specials()) {
                sb.append(bytes.toString(StandardCharsets.UTF_8));
                bytes.reset();
                sb.append(model.tokens().get(id));
            } else {
                bytes.writeBytes(ByteLevel.decode(model.tokens().get(id)));
            }
        }
        return sb.append(bytes.toString(StandardCharsets.UTF_8)).toString();
    }

    private int[] piece(String p) {
        int[] hit = cache.get(p);
        if (hit != null) {
            return hit;
        }
        byte[] bytes = p.getBytes(StandardCharsets.UTF_8);
        int[] s = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            s[i] = model.byteId(bytes[i]);
        }
        while (s.length > 1) {
            long best = Long.MAX_VALUE;
            for (int i = 0; i + 1 < s.length; i++) {
                Long r = ranks.get(BpeTrainer.key(s[i], s[i + 1]));
                if (r != null && r < best) {
                    best = r;
                }
            }
            if (best == Long.MAX_VALUE) {
                break;
            }
            BpeModel.Merge m = model.merges().get((int) (best >>> 32));
            s = BpeTrainer.mergeWord(s, m.left(), m.right(), (int) best);
        }
        if (cache.size() < CACHE_LIMIT) {
            cache.put(p, s);
        }
        return s;
    }

    /** A growable int array, to avoid boxing millions of ids. */
    private static final class IntList {
        int[] a = new int[64];
        int n;

        void add(int v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, n * 2);
            }
            a[n++] = v;
        }

        void addAll(int[] v) {
            if (n + v.length > a.length) {
                a = Arrays.copyOf(a, Math.max(a.length * 2, n + v.length));
            }
            System.arraycopy(v, 0, a, n, v.length);
            n += v.length;
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
