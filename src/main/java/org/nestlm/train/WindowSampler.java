package org.nestlm.train;

import ai.djl.ndarray.NDArray;
import org.nestlm.model.Tensors;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.SplittableRandom;

/**
 * Training windows drawn at random offsets of a token stream. The offsets of micro-batch {@code micro} of
 * optimizer step {@code step} are a pure function of (seed, step, micro): the data position of a run is
 * just its step, so a resumed run reads exactly the batches an uninterrupted one would have.
 */
public final class WindowSampler {

    private final TokenSource source;
    private final int seqLen;
    private final int batchSize;
    private final long seed;

    public WindowSampler(TokenSource source, int seqLen, int batchSize, long seed) {
        if (source.size() < seqLen + 1) {
            throw new IllegalArgumentException("the training data has " + source.size() + " tokens, fewer than one window of "
                    + (seqLen + 1));
        }
        this.source = source;
        this.seqLen = seqLen;
        this.batchSize = batchSize;
        this.seed = seed;
    }

    /** Inputs and next-token targets, each [batch, seqLen] int64. */
    public record Batch(NDArray inputs, NDArray targets) {

        /**
         * A copy of the inputs in {@code scope}. DJL keeps an operation's result in the manager of its first
         * operand, so a forward pass over this copy leaves its activations in {@code scope}, and they are freed
         * when it closes rather than when the batch is: windows kept for many passes (validation, search) hold
         * no pass's arrays.
         */
        public NDArray inputsIn(NDManager scope) {
            NDArray in = inputs.duplicate();
            in.attach(scope);
            return in;
        }
    }

    public Batch batch(NDManager m, int step, int micro) {
        SplittableRandom rng = new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (step * 4096L + micro + 1)));
        int[] starts = new int[batchSize];
        for (int b = 0; b < batchSize; b++) {
            starts[b] = rng.nextInt(source.size() - seqLen);
        }
        return windows(m, source, starts, seqLen);
    }

    /** The windows starting at {@code starts}: inputs ids[s, s+L), targets ids[s+1, s+L+1). */
    static Batch windows(NDManager m, TokenSource source, int[] starts, int seqLen) {
        long[] in = new long[starts.length * seqLen];
        long[] out = new long[starts.length * seqLen];
        for (int b = 0; b < starts.length; b++) {
            for (int t = 0; t < seqLen; t++) {
                in[b * seqLen + t] = source.get(starts[b] + t);
                out[b * seqLen + t] = source.get(starts[b] + t + 1);
            }
        }
        Shape s = new Shape(starts.length, seqLen);
        return new Batch(Tensors.of(m, in, s), Tensors.of(m, out, s));
    }

    /**
     * Fixed validation windows: consecutive, non-overlapping, from the start of the source, at most
     * {@code batches × batchSize} of them (fewer when the source is short).
     */
    public static java.util.List<Batch> validation(NDManager m, TokenSource source, int seqLen, int batchSize, int batches) {
        int available = (source.size() - 1) / seqLen;
        int windows = Math.min(available, batches * batchSize);
        if (windows == 0) {
            throw new IllegalArgumentException("the validation data has " + source.size() + " tokens, fewer than one window of "
                    + (seqLen + 1));
        }
        java.util.List<Batch> out = new java.util.ArrayList<>();
        for (int first = 0; first < windows; first += batchSize) {
            int n = Math.min(batchSize, windows - first);
            int[] starts = new int[n];
            for (int i = 0; i < n; i++) {
                starts[i] = (first + i) * seqLen;
            }
            out.add(windows(m, source, starts, seqLen));
        }
        return out;
    }
}
