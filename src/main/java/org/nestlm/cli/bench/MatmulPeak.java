package org.nestlm.cli.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The yardstick of {@code nestlm bench train}: libtorch's fp32 matrix-multiply rate on this machine at the
 * benchmark's thread count, from a 2048 × 2048 by 2048 × 2048 product (2·2048³ FLOPs), best of five after one
 * untimed run. The best, not the median: the peak is what the hardware can do when the shared cores are free.
 */
final class MatmulPeak {

    static final int SIZE = 2048;
    private static final int REPEATS = 5;

    private MatmulPeak() {
    }

    /** GFLOP/s of the fastest of the timed products. */
    static double gflops(NDManager parent) {
        try (NDManager m = parent.newSubManager()) {
            Shape s = new Shape(SIZE, SIZE);
            NDArray a = m.randomUniform(-1f, 1f, s), b = m.randomUniform(-1f, 1f, s);
            a.matMul(b).close();
            double best = Double.MAX_VALUE;
            for (int i = 0; i < REPEATS; i++) {
                long t0 = System.nanoTime();
                NDArray c = a.matMul(b);
                c.getFloat(0, 0);                                    // CPU ops are synchronous; the read only makes it explicit
                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
                c.close();
            }
            return 2.0 * SIZE * SIZE * SIZE / best / 1e9;
        }
    }

    /** The processor's model name from /proc/cpuinfo, or the JVM's architecture where there is none. */
    static String processor() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // no /proc (not Linux): fall through
        }
        return System.getProperty("os.arch");
    }
}
