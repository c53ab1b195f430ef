package org.nestlm.sizes;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Limits a size must meet: parameters, inference memory ({@link MemoryModel}) and decode latency
 * ({@link LatencyProfile}). Absent limits are −1 (counts) or NaN (latency); every given limit must hold.
 *
 * @param maxParams    most parameters, or −1
 * @param maxMemory    most bytes of {@link MemoryModel.Footprint#total()}, or −1
 * @param maxLatencyMs most estimated decode ms per token, or NaN
 * @param memory       how memory is counted (always set: figures are printed even without a memory limit)
 * @param latency      the measured profile; required with {@code maxLatencyMs}, else may be null
 * @param threads      the thread count whose latency measurements apply
 */
public record SizeConstraints(long maxParams, long maxMemory, double maxLatencyMs, MemoryModel memory,
                              LatencyProfile latency, int threads) {

    public SizeConstraints {
        if (memory == null) {
            throw new IllegalArgumentException("a memory model is required");
        }
        if (!Double.isNaN(maxLatencyMs) && !(maxLatencyMs > 0)) {
            throw new IllegalArgumentException("max latency must be positive, got " + maxLatencyMs + " ms");
        }
        if (!Double.isNaN(maxLatencyMs) && latency == null) {
            throw new IllegalArgumentException("a latency limit needs a latency profile (" + LatencyProfile.FILE_NAME + ")");
        }
        if (maxParams == 0 || maxParams < -1 || maxMemory == 0 || maxMemory < -1) {
            throw new IllegalArgumentException("limits must be positive");
        }
    }

    /** No limit at all: only figures. */
    public static SizeConstraints none(MemoryModel memory) {
        return new SizeConstraints(-1, -1, Double.NaN, memory, null, 1);
    }

    public boolean any() {
        return maxParams > 0 || maxMemory > 0 || !Double.isNaN(maxLatencyMs);
    }

    /** The limits {@code c} breaks, each as "limit: figure" text; empty when it fits. */
    public List<String> violations(SizeChoice c) {
        List<String> v = new ArrayList<>();
        if (maxParams > 0 && c.size().parameters() > maxParams) {
            v.add(String.format(Locale.ROOT, "max-params %,d: it has %,d parameters", maxParams, c.size().parameters()));
        }
        if (maxMemory > 0 && c.memory().total() > maxMemory) {
            v.add("max-memory " + MemoryModel.formatBytes(maxMemory) + ": it needs " + memory.describe(c.memory()));
        }
        if (!Double.isNaN(maxLatencyMs) && c.latencyMs() > maxLatencyMs) {
            v.add(String.format(Locale.ROOT, "max-latency %.3f ms: it decodes at an estimated %s", maxLatencyMs,
                    LatencyProfile.describe(c.latencyMs(), threads)));
        }
        return v;
    }

    public boolean fits(SizeChoice c) {
        return violations(c).isEmpty();
    }
}
