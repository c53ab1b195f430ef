package org.nestlm.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * How a long token sequence is scored with a model of limited context: windows of {@code context} input tokens
 * whose starts advance by {@code stride}; each window scores only the targets not scored by an earlier window, so
 * every target is scored exactly once and, after the first window, with at least {@code context − stride} tokens of
 * context (the "sliding window" perplexity of Hugging Face's guide). The last window is anchored at the end of the
 * sequence so that every window has the full length and windows can be batched without padding.
 *
 * <p>Window {@code w} feeds inputs {@code x[begin, begin + length)} and predicts {@code x[begin + 1, begin + length]};
 * it scores the predictions at offsets {@code ≥ scoreFrom} (offset {@code i} predicts {@code x[begin + i + 1]}).
 */
public final class SlidingWindows {

    /** One window: input start, input length and the first offset whose prediction is scored. */
    public record Window(int begin, int length, int scoreFrom) {
    }

    private SlidingWindows() {
    }

    /**
     * Windows over a sequence of {@code n} tokens (so {@code n − 1} predictions).
     *
     * @throws IllegalArgumentException when stride is not in {@code [1, context]}
     */
    public static List<Window> plan(int n, int context, int stride) {
        if (context < 1 || stride < 1 || stride > context) {
            throw new IllegalArgumentException("--context must be positive and --stride in 1.." + context + ", got context "
                    + context + ", stride " + stride);
        }
        List<Window> out = new ArrayList<>();
        int predictions = n - 1;
        if (predictions <= 0) {
            return out;
        }
        if (predictions <= context) {
            out.add(new Window(0, predictions, 0));
            return out;
        }
        int scored = 0;                                  // predictions 0 … scored−1 are done
        int begin = 0;
        while (scored < predictions) {
            int b = Math.min(begin, predictions - context);   // the last window ends exactly at the end
            out.add(new Window(b, context, scored - b));
            scored = b + context;
            begin += stride;
        }
        return out;
    }
}
