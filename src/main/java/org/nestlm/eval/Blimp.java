package org.nestlm.eval;

import com.fasterxml.jackson.databind.JsonNode;
import org.nestlm.data.Progress;
import org.nestlm.model.ConfigJson;
import org.nestlm.tokenizer.TextTokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * BLiMP-style minimal pairs (Warstadt et al., 2020; docs/CORPORA.md §5.3): JSONL with {@code sentence_good},
 * {@code sentence_bad} and the paradigm in {@code UID}. A pair is correct when the full-sentence log-probability of
 * the good sentence, summed over its tokens and conditioned on the end-of-text separator (the start-of-document
 * context of training), is higher than the bad one's. Chance is 50 %.
 */
public final class Blimp {

    /** Sentences per forward pass (right-padded; causal models ignore what comes after a position). */
    static final int BATCH = 32;

    private Blimp() {
    }

    /** The pairs of a {@code .jsonl} file, or of every {@code *.jsonl} in a directory (in name order). */
    public static List<BlimpPair> read(Path fileOrDir) throws IOException {
        List<Path> files = new ArrayList<>();
        if (Files.isDirectory(fileOrDir)) {
            try (Stream<Path> s = Files.list(fileOrDir)) {
                s.filter(p -> p.getFileName().toString().endsWith(".jsonl")).sorted().forEach(files::add);
            }
            if (files.isEmpty()) {
                throw new IOException(fileOrDir + ": no *.jsonl files of minimal pairs");
            }
        } else {
            files.add(fileOrDir);
        }
        List<BlimpPair> pairs = new ArrayList<>();
        for (Path f : files) {
            String fallback = f.getFileName().toString().replaceFirst("\\.jsonl$", "");
            try (BufferedReader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
                String line;
                int no = 0;
                while ((line = r.readLine()) != null) {
                    no++;
                    if (line.isBlank()) {
                        continue;
                    }
                    JsonNode o;
                    try {
                        o = ConfigJson.MAPPER.readTree(line);
                    } catch (IOException e) {
                        throw new IOException(f + ":" + no + ": not valid JSON: " + e.getMessage(), e);
                    }
                    if (!o.path("sentence_good").isTextual() || !o.path("sentence_bad").isTextual()) {
                        throw new IOException(f + ":" + no + ": expected text fields sentence_good and sentence_bad");
                    }
                    String uid = o.path("UID").isTextual() ? o.get("UID").asText() : fallback;
                    pairs.add(new BlimpPair(uid, o.get("sentence_good").asText(), o.get("sentence_bad").asText()));
                }
            }
        }
        if (pairs.isEmpty()) {
            throw new IOException(fileOrDir + ": no minimal pairs");
        }
        return pairs;
    }

    /** Scores every pair; {@code maxPairs > 0} keeps the first that many of every paradigm. */
    public static BlimpScore score(ModelScorer model, String data, List<BlimpPair> pairs, TextTokenizer tokenizer,
                                   int separator, int maxPairs, boolean progress) {
        List<BlimpPair> used = new ArrayList<>();
        Map<String, Integer> seen = new LinkedHashMap<>();
        for (BlimpPair p : pairs) {
            int c = seen.merge(p.paradigm(), 1, Integer::sum);
            if (maxPairs <= 0 || c <= maxPairs) {
                used.add(p);
            }
        }
        List<long[]> sentences = new ArrayList<>();
        for (BlimpPair p : used) {
            sentences.add(withStart(tokenizer.encode(p.good()), separator));
            sentences.add(withStart(tokenizer.encode(p.bad()), separator));
        }
        double[] lp = new double[sentences.size()];
        try (Progress bar = Progress.start(progress, "blimp " + data, sentences.size())) {
            for (int first = 0; first < sentences.size(); first += BATCH) {
                List<long[]> group = sentences.subList(first, Math.min(sentences.size(), first + BATCH));
                double[] r = sentenceLogProbs(model, group, separator);
                System.arraycopy(r, 0, lp, first, r.length);
                bar.step(group.size());
            }
        }
        Map<String, long[]> by = new LinkedHashMap<>();
        long correct = 0;
        for (int i = 0; i < used.size(); i++) {
            boolean ok = lp[2 * i] > lp[2 * i + 1];
            long[] c = by.computeIfAbsent(used.get(i).paradigm(), k -> new long[2]);
            c[1]++;
            if (ok) {
                c[0]++;
                correct++;
            }
        }
        return new BlimpScore(data, correct, used.size(), by);
    }

    private static long[] withStart(long[] ids, int separator) {
        if (separator < 0) {
            return ids;
        }
        long[] out = new long[ids.length + 1];
        out[0] = separator;
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }

    /** Sum of log p(token | preceding tokens) over every token after the first, per sentence. */
    static double[] sentenceLogProbs(ModelScorer model, List<long[]> sentences, int pad) {
        int len = 1;
        for (long[] s : sentences) {
            len = Math.max(len, s.length - 1);
        }
        int b = sentences.size();
        long[] in = new long[b * len], out = new long[b * len];
        long fill = Math.max(0, pad);
        java.util.Arrays.fill(in, fill);
        java.util.Arrays.fill(out, fill);
        for (int i = 0; i < b; i++) {
            long[] s = sentences.get(i);
            for (int t = 0; t + 1 < s.length; t++) {
                in[i * len + t] = s[t];
                out[i * len + t] = s[t + 1];
            }
        }
        float[] lp = model.logProbs(in, out, b, len);
        double[] r = new double[b];
        for (int i = 0; i < b; i++) {
            for (int t = 0; t + 1 < sentences.get(i).length; t++) {
                r[i] += lp[i * len + t];
            }
        }
        return r;
    }
}
