package org.nestlm.api;

/**
 * One size of a checkpoint: the whole model, a trained nested budget of an elastic checkpoint, or a budget
 * between trained ones that the router interpolates. Every size runs from views of the one mapping of the full
 * weights.
 *
 * @param id           the name clients use: the checkpoint directory's name, {@code name@budget} for a nested size
 * @param budget       a budget text that selects this size again ({@link Nestlm#model(String)}); {@code "100%"} for the full model
 * @param kind         how the size came about
 * @param parameters   exact parameter count
 * @param fraction     parameters relative to the full model
 * @param weightBytes  weight memory at the checkpoint's dtype
 * @param stateBytes   KV cache and Mamba state for the context and batch of {@link OpenOptions}
 * @param latencyMs    estimated decode latency in ms per token from the checkpoint's {@code latency.json} at the
 *                     open thread count, or NaN when none was measured
 */
public record Size(String id, String budget, Kind kind, long parameters, double fraction, long weightBytes,
                   long stateBytes, double latencyMs) {

    /** The full model, a trained budget, or a budget served by interpolating the router's input. */
    public enum Kind { FULL, TRAINED, INTERPOLATED }

    /** Weights plus state: the inference memory this size needs. */
    public long memoryBytes() {
        return weightBytes + stateBytes;
    }
}
