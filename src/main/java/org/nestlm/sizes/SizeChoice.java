package org.nestlm.sizes;

import java.util.Locale;

/**
 * One size of an elastic checkpoint with the figures a selection is made on.
 *
 * @param size      the resolved sub-model; {@code size.budget()} is a budget text that resolves to it again
 * @param kind      how it came about
 * @param memory    its inference memory under the selection's {@link MemoryModel}
 * @param latencyMs its estimated decode latency, ms per token, or NaN without a latency profile
 */
public record SizeChoice(TrainedBudget size, Kind kind, MemoryModel.Footprint memory, double latencyMs) {

    /** The full model, a trained budget, or a budget served by interpolating the router input. */
    public enum Kind {
        FULL, TRAINED, INTERPOLATED;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** "61.3% (interpolated): 165,432 parameters (61.2 % of full); memory …; decode …" */
    public String describe(long fullParameters, MemoryModel model, int threads) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%s (%s): %,d parameters (%.1f %% of the full model); memory %s",
                size.budget(), kind.label(), size.parameters(), 100.0 * size.parameters() / fullParameters, model.describe(memory)));
        if (!Double.isNaN(latencyMs)) {
            sb.append("; decode ≈ ").append(LatencyProfile.describe(latencyMs, threads));
        }
        return sb.toString();
    }
}
