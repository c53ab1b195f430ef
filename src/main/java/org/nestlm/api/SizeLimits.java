package org.nestlm.api;

/**
 * Limits under which {@link Nestlm#select(SizeLimits)} picks the largest size. Absent limits are −1 (counts) or
 * NaN (latency); every given limit must hold.
 *
 * @param maxParams    most parameters, or −1
 * @param maxMemory    most bytes of {@link Size#memoryBytes()} (counted as {@link OpenOptions} says), or −1
 * @param maxLatencyMs most estimated decode ms per token (needs the checkpoint's {@code latency.json}), or NaN
 */
public record SizeLimits(long maxParams, long maxMemory, double maxLatencyMs) {

    public SizeLimits {
        if (maxParams == 0 || maxParams < -1) {
            throw new IllegalArgumentException("max_params must be positive (or −1 for none), got " + maxParams);
        }
        if (maxMemory == 0 || maxMemory < -1) {
            throw new IllegalArgumentException("max_memory must be positive (or −1 for none), got " + maxMemory);
        }
        if (!Double.isNaN(maxLatencyMs) && !(maxLatencyMs > 0)) {
            throw new IllegalArgumentException("max_latency_ms must be positive (or NaN for none), got " + maxLatencyMs);
        }
    }

    /** No limit. */
    public static SizeLimits none() {
        return new SizeLimits(-1, -1, Double.NaN);
    }

    /** At most {@code n} parameters. */
    public static SizeLimits maxParams(long n) {
        return none().withMaxParams(n);
    }

    /** At most {@code bytes} of inference memory. */
    public static SizeLimits maxMemory(long bytes) {
        return none().withMaxMemory(bytes);
    }

    public SizeLimits withMaxParams(long n) {
        return new SizeLimits(n, maxMemory, maxLatencyMs);
    }

    public SizeLimits withMaxMemory(long bytes) {
        return new SizeLimits(maxParams, bytes, maxLatencyMs);
    }

    public SizeLimits withMaxLatencyMs(double ms) {
        return new SizeLimits(maxParams, maxMemory, ms);
    }

    /** True when at least one limit is given. */
    public boolean any() {
        return maxParams > 0 || maxMemory > 0 || !Double.isNaN(maxLatencyMs);
    }

    /** The field name of the first limit given, for error messages. */
    String firstField() {
        return maxParams > 0 ? "max_params" : maxMemory > 0 ? "max_memory" : "max_latency_ms";
    }
}
