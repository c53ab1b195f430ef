package org.nestlm.infer;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from logits: greedy when the temperature is 0; otherwise temperature → top-k →
 * softmax → top-p (nucleus) → a draw from the renormalised distribution. Ties in the argmax go to the
 * lowest id. One sampler per sequence (it holds the random generator).
 */
public final class Sampler {

    private final SamplingParams params;
    private final SplittableRandom random;

    public Sampler(SamplingParams params) {
        this.params = params;
        this.random = params.seed() == null ? new SplittableRandom() : new SplittableRandom(params.seed());
    }

    /** The next token for logits[off, off+vocab). */
    public int sample(float[] logits, int off, int vocab) {
        if (params.isGreedy()) {
            return argmax(logits, off, vocab);
        }
        Candidates c = candidates(logits, off, vocab);
        double r = random.nextDouble() * c.total();
        for (int i = 0; i < c.ids().length; i++) {
            r -= c.weights()[i];
            if (r < 0) {
                return c.ids()[i];
            }
        }
        return c.ids()[c.ids().length - 1];
    }

    /** True when {@link #sample} takes the argmax. */
    public boolean greedy() {
        return params.isGreedy();
    }

    /**
     * The distribution {@link #sample} draws from, as dense probabilities over the vocabulary: temperature,
     * top-k and top-p applied, renormalised; zero outside the kept candidates. Speculative sampling compares
     * these for the draft and the target model.
     */
    public double[] distribution(float[] logits, int off, int vocab) {
        double[] dense = new double[vocab];
        if (params.isGreedy()) {
            dense[argmax(logits, off, vocab)] = 1;
            return dense;
        }
        Candidates c = candidates(logits, off, vocab);
        for (int i = 0; i < c.ids().length; i++) {
            dense[c.ids()[i]] = c.weights()[i] / c.total();
        }
        return dense;
    }

    /** The kept tokens, most likely first, with unnormalised weights exp((logit − max)/T) and their sum. */
    private record Candidates(int[] ids, double[] weights, double total) {
    }

    /** Temperature → top-k → softmax → top-p (the shortest prefix whose probability reaches top_p). */
    private Candidates candidates(float[] logits, int off, int vocab) {
        // sorted by logit, descending: key = order-preserving float bits in the high half, id in the low half
        long[] keys = new long[vocab];
        for (int i = 0; i < vocab; i++) {
            int bits = Float.floatToIntBits(logits[off + i]);
            int sortable = bits >= 0 ? bits : bits ^ 0x7FFFFFFF;     // monotone in the float value
            keys[i] = ((long) ~sortable << 32) | i;   // ascending sort = descending logit, then ascending id
        }
        Arrays.sort(keys);
        int n = params.topK() > 0 ? Math.min(params.topK(), vocab) : vocab;
        int[] ids = new int[n];
        double[] p = new double[n];
        double max = logits[off + id(keys[0])];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            ids[i] = id(keys[i]);
            p[i] = Math.exp((logits[off + ids[i]] - max) / params.temperature());
            sum += p[i];
        }
        int keep = n;
        if (params.topP() < 1) {
            double cum = 0;
            for (int i = 0; i < n; i++) {
                cum += p[i] / sum;
                if (cum >= params.topP()) {
                    keep = i + 1;
                    break;
                }
            }
        }
        double total = 0;
        for (int i = 0; i < keep; i++) {
            total += p[i];
        }
        return new Candidates(Arrays.copyOf(ids, keep), Arrays.copyOf(p, keep), total);
    }

    /** A uniform draw in [0, 1) from this sampler's generator. */
    public double uniform() {
        return random.nextDouble();
    }

    /** A draw from dense probabilities {@code p} (summing to about 1). */
    public int draw(double[] p) {
        return draw(p, uniform());
    }

    /** The inverse-CDF pick of {@code u·Σp} in {@code p}; the last non-zero entry absorbs rounding. */
    static int draw(double[] p, double u) {
        double total = 0;
        int last = 0;
        for (int i = 0; i < p.length; i++) {
            total += p[i];
            if (p[i] > 0) {
                last = i;
            }
        }
        double r = u * total;
        for (int i = 0; i < p.length; i++) {
            r -= p[i];
            if (r < 0 && p[i] > 0) {
                return i;
            }
        }
        return last;
    }

    private static int id(long key) {
        return (int) (key & 0xFFFFFFFFL);
    }

    static int argmax(float[] v, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (v[off + i] > v[off + best]) {
                best = i;
            }
        }
        return best;
    }
}
