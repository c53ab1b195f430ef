package org.nestlm.infer;

/**
 * Measures the memory-read bandwidth the engine's kernels can reach on this machine: the physical bound
 * for decode, which reads every weight once per token. Streams a buffer much larger than the caches
 * through the same SIMD dot kernel, split over the same threads, and keeps the best of a few passes.
 */
public final class MemoryBandwidth {

    private MemoryBandwidth() {
    }

    /**
     * @param bytes buffer size (rounded down to floats); should be several times the last-level cache
     * @return bytes per second
     */
    public static double measureReadBytesPerSecond(Parallel parallel, long bytes, int passes) {
        int n = (int) Math.min(Integer.MAX_VALUE - 8, bytes / 4);
        float[] buffer = new float[n];
        for (int i = 0; i < n; i += 1024) {
            buffer[i] = 1f;   // touch every page so the timing sees no page faults
        }
        Kernels k = Kernels.get();
        int blocks = Math.max(parallel.threads(), n / (1 << 16));
        float[] sink = new float[blocks];
        double best = 0;
        for (int p = 0; p < passes; p++) {
            long t0 = System.nanoTime();
            parallel.forRange(blocks, Parallel.MIN_WORK_PER_THREAD, (from, to) -> {
                for (int b = from; b < to; b++) {
                    int lo = (int) ((long) n * b / blocks), hi = (int) ((long) n * (b + 1) / blocks);
                    sink[b] = k.dot(buffer, lo, buffer, lo, hi - lo);   // one read stream: both operands are the same
                }
            });
            long dt = System.nanoTime() - t0;
            best = Math.max(best, (double) n * 4 / (dt / 1e9));
        }
        if (Float.isNaN(sink[0])) {
            throw new IllegalStateException("unreachable");   // keeps the reads alive
        }
        return best;
    }
}
