package org.nestlm.serve;

import org.nestlm.sizes.ElasticModel;
import org.nestlm.sizes.LatencyProfile;
import org.nestlm.sizes.MemoryModel;
import org.nestlm.sizes.SizeChoice;
import org.nestlm.sizes.SizeConstraints;
import org.nestlm.sizes.Subnet;
import org.nestlm.sizes.TrainedBudget;
import org.nestlm.infer.LanguageModel;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The sizes a server offers beyond its fixed models: any budget in the trained range (router interpolation) and
 * the largest size under a request's limits, both resolved by the checkpoint's {@link ElasticModel}. Sizes are
 * opened on first use by {@code opener} (on the server's one mapping and thread pool) and kept (at most
 * {@code maxOpen}), since a running request may hold one: they are never closed before the server is.
 */
public final class ElasticSizes implements AutoCloseable {

    private final ElasticModel model;
    private final MemoryModel memory;
    private final LatencyProfile latency;   // may be null
    private final int threads;
    private final Function<TrainedBudget, LanguageModel> opener;
    private final int maxOpen;
    private final Map<Subnet, LanguageModel> opened = new LinkedHashMap<>();

    /**
     * @param memory  how {@code max_memory} counts (the server's --dtype, --context, --batch)
     * @param latency the checkpoint's latency profile, or null (then {@code max_latency_ms} is refused)
     * @param threads the server's compute threads: the measurements {@code max_latency_ms} uses
     * @param opener  opens a size that is not among the fixed models
     * @param maxOpen most sizes opened by {@code opener}
     */
    public ElasticSizes(ElasticModel model, MemoryModel memory, LatencyProfile latency, int threads,
                        Function<TrainedBudget, LanguageModel> opener, int maxOpen) {
        this.model = model;
        this.memory = memory;
        this.latency = latency;
        this.threads = threads;
        this.opener = opener;
        this.maxOpen = maxOpen;
    }

    public ElasticModel model() {
        return model;
    }

    public MemoryModel memory() {
        return memory;
    }

    /** The size a request asks for: by budget (in the trained range) or by limits; null when it asks for neither. */
    synchronized SizeChoice resolve(SizeRequest r) {
        if (r.budget() != null) {
            TrainedBudget t;
            try {
                t = model.resolve(r.budget());
            } catch (IllegalArgumentException e) {
                throw new ApiException(404, "no model for budget '" + r.budget() + "': " + e.getMessage()
                        + "; this server serves any budget from " + range(), "budget", "model_not_found");
            }
            return model.figures(t, SizeConstraints.none(memory));
        }
        if (!r.constrained()) {
            return null;
        }
        if (!Double.isNaN(r.maxLatencyMs()) && (latency == null || !latency.threadCounts().contains(threads))) {
            throw ApiException.badField("max_latency_ms", "this server has no decode latency measured at " + threads
                    + " threads (" + LatencyProfile.FILE_NAME + "); run 'nestlm bench decode --all-sizes' and restart");
        }
        try {
            return model.select(new SizeConstraints(r.maxParams(), r.maxMemory(), r.maxLatencyMs(), memory, latency, threads));
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, e.getMessage(), r.firstLimitField(), "no_size_fits");
        }
    }

    /** The model that runs {@code size}: a fixed member with the same sub-model, else one opened (once) for it. */
    public synchronized LanguageModel model(TrainedBudget size, List<LanguageModel> fixed) {
        for (LanguageModel m : fixed) {
            Subnet s = m.engine().subnet();
            if (s == null ? size.subnet().equals(Subnet.full(model.checkpoint().architecture())) : s.equals(size.subnet())) {
                return m;
            }
        }
        LanguageModel m = opened.get(size.subnet());
        if (m == null) {
            if (opened.size() >= maxOpen) {
                throw new ApiException(503, "this server already runs its limit of " + maxOpen
                        + " interpolated sizes; ask for a trained size or one already served", "budget", "too_many_sizes");
            }
            m = opener.apply(size);
            opened.put(size.subnet(), m);
        }
        return m;
    }

    /** "50% … 75%" */
    String range() {
        return ElasticModel.percent(model.minTrainedFraction(), 2) + " to " + ElasticModel.percent(model.maxTrainedFraction(), 2);
    }

    SizeChoice.Kind kindOf(TrainedBudget t) {
        return model.kindOf(t);
    }

    /** Closes the sizes opened for requests, and the checkpoint's mapping when {@code model} owns it. */
    @Override
    public synchronized void close() {
        opened.values().forEach(LanguageModel::close);
        opened.clear();
        model.close();
    }
}
