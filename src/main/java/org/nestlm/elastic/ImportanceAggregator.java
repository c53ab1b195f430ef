package org.nestlm.elastic;

import ai.djl.ndarray.NDArray;

/**
 * The Minitron aggregation of one activation site (docs/METHOD.md §2.1): per sample
 * {@code v = mean over the sequence of |a|}, then {@code score = sqrt(Σ_batch v²)} — mean over the sequence,
 * L2 over the batch. The sum of squares is accumulated in double across forward passes; the root is taken
 * once at the end, so the result does not depend on how the samples were batched.
 */
public final class ImportanceAggregator {

    private final double[] sumSquares;

    /** @param size channels per sample after the sequence axis is removed (e.g. nh·hd for [b, L, nh, hd]) */
    public ImportanceAggregator(int size) {
        this.sumSquares = new double[size];
    }

    /**
     * Adds a batch of activations a [b, L, ...] (any trailing shape, flattened row-major). Only the reduced
     * [size] vector is copied to the heap; the temporaries belong to a's manager.
     */
    public void add(NDArray a) {
        NDArray v = a.abs().mean(new int[] {1});              // [b, ...]: mean over the sequence, per sample
        float[] s = v.square().sum(new int[] {0}).toFloatArray();   // [...]: Σ over the batch of v²
        if (s.length != sumSquares.length) {
            throw new IllegalArgumentException("activation of shape " + a.getShape() + " has " + s.length
                    + " channels per sample, expected " + sumSquares.length);
        }
        for (int i = 0; i < s.length; i++) {
            sumSquares[i] += s[i];
        }
    }

    /** Adds per-sample vectors directly: {@code v[sample][channel]}, already averaged over the sequence. */
    public void addSamples(double[][] v) {
        for (double[] sample : v) {
            for (int i = 0; i < sumSquares.length; i++) {
                sumSquares[i] += sample[i] * sample[i];
            }
        }
    }

    /** Channels per sample. */
    public int size() {
        return sumSquares.length;
    }

    /** The running Σ_batch v² into {@code out} from {@code offset}. */
    void copySumSquares(double[] out, int offset) {
        System.arraycopy(sumSquares, 0, out, offset, sumSquares.length);
    }

    /** Adds another aggregation's Σ_batch v², read from {@code sums} at {@code offset}. */
    void addSumSquares(double[] sums, int offset) {
        for (int i = 0; i < sumSquares.length; i++) {
            sumSquares[i] += sums[offset + i];
        }
    }

    /** {@code sqrt(Σ_batch v²)} per channel. */
    public double[] scores() {
        double[] out = new double[sumSquares.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = Math.sqrt(sumSquares[i]);
        }
        return out;
    }
}
