package org.nestlm.eval;

import org.nestlm.data.Progress;

import java.util.List;
import java.util.function.IntUnaryOperator;

/**
 * Per-token perplexity, per-word perplexity and bits per byte of a token stream (docs/CORPORA.md §5.2).
 *
 * <p><b>Method.</b> The stream is the token cache of the text: every document's tokens followed by the end-of-text
 * separator. A separator is put in front, so the first token is predicted from the same "start of a document"
 * context the model saw in training, and every token of the text is scored. Separator targets are not scored (they
 * encode no bytes of the text). Long streams are scored in {@link SlidingWindows}: {@code context} tokens per window,
 * advancing by {@code stride}, each token scored once with at least {@code context − stride} tokens of context.
 * Total NLL is the sum over scored tokens; per-token perplexity {@code exp(NLL / tokens)}, per-word
 * {@code exp(NLL / words)}, bits per byte {@code NLL / (ln 2 · UTF-8 bytes)}.
 */
public final class TextEval {

    /** Sliding-window settings and the batch size of forward passes. */
    public record Settings(int context, int stride, int batch, long maxTokens) {
        public Settings {
            if (batch < 1) {
                throw new IllegalArgumentException("--batch must be positive, got " + batch);
            }
            SlidingWindows.plan(2, context, stride);   // validates context and stride
        }

        public static Settings defaults() {
            return new Settings(256, 128, 8, 0);
        }
    }

    private TextEval() {
    }

    /**
     * Scores a stream.
     *
     * @param stream    token at position i, for i in [0, size)
     * @param size      tokens in the stream
     * @param separator end-of-text id (prepended and never scored), or −1 when the tokenizer has none
     * @param bytes     UTF-8 bytes of the text
     * @param words     words of the text ({@link WordCount})
     * @param progress  a bar on the console
     */
    public static TextScore score(ModelScorer model, String data, IntUnaryOperator stream, int size, int separator,
                                  long bytes, long words, Settings settings, boolean progress) {
        boolean lead = separator >= 0 && (size == 0 || stream.applyAsInt(0) != separator);
        int total = size + (lead ? 1 : 0);
        int[] x = new int[total];
        int k = 0;
        if (lead) {
            x[k++] = separator;
        }
        for (int i = 0; i < size; i++) {
            x[k++] = stream.applyAsInt(i);
        }
        long textTokens = 0;
        for (int i = 1; i < total; i++) {
            if (x[i] != separator) {
                textTokens++;
            }
        }
        int n = total;
        boolean capped = false;
        if (settings.maxTokens() > 0 && settings.maxTokens() < total - 1) {
            n = (int) settings.maxTokens() + 1;
            capped = true;
        }
        for (int i = 0; i < n; i++) {
            if (x[i] < 0 || x[i] >= model.vocabSize()) {
                throw new IllegalArgumentException(data + ": token id " + x[i] + " is outside the model's vocabulary of "
                        + model.vocabSize() + " (another tokenizer?)");
            }
        }
        List<SlidingWindows.Window> windows = SlidingWindows.plan(n, settings.context(), settings.stride());
        double nll = 0;
        long scored = 0;
        try (Progress bar = Progress.start(progress, "eval " + data, n - 1L, "tok", 1)) {
            for (int first = 0; first < windows.size(); first += settings.batch()) {
                List<SlidingWindows.Window> group = windows.subList(first, Math.min(windows.size(), first + settings.batch()));
                int len = group.getFirst().length();
                long[] in = new long[group.size() * len], out = new long[group.size() * len];
                for (int b = 0; b < group.size(); b++) {
                    SlidingWindows.Window w = group.get(b);
                    for (int t = 0; t < len; t++) {
                        in[b * len + t] = x[w.begin() + t];
                        out[b * len + t] = x[w.begin() + t + 1];
                    }
                }
                float[] lp = model.logProbs(in, out, group.size(), len);
                for (int b = 0; b < group.size(); b++) {
                    SlidingWindows.Window w = group.get(b);
                    for (int t = w.scoreFrom(); t < len; t++) {
                        if (out[b * len + t] != separator) {
                            nll -= lp[b * len + t];
                            scored++;
                        }
                    }
                    bar.step(len - w.scoreFrom());
                }
            }
        }
        if (scored == 0) {
            throw new IllegalArgumentException(data + ": no tokens to score");
        }
        double share = capped ? (double) scored / Math.max(1, textTokens) : 1.0;
        return new TextScore(data, nll, scored, bytes * share, words * share, capped);
    }
}
