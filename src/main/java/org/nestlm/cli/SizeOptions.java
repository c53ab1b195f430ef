package org.nestlm.cli;

import org.nestlm.sizes.Budget;
import org.nestlm.sizes.ElasticJson;
import org.nestlm.sizes.ElasticModel;
import org.nestlm.sizes.LatencyProfile;
import org.nestlm.sizes.MemoryModel;
import org.nestlm.sizes.SizeChoice;
import org.nestlm.sizes.SizeConstraints;
import org.nestlm.sizes.TrainedBudget;
import org.nestlm.model.Checkpoint;
import org.nestlm.io.DType;
import org.nestlm.model.WeightNames;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * How a command picks the nested size of an elastic checkpoint, written once for score, generate, chat, slice,
 * serve and bench decode: a budget ({@code --budget 60%}: trained, or interpolated by the router anywhere in the
 * trained range), or limits ({@code --max-params}, {@code --max-memory}, {@code --max-latency-ms}) under which the
 * largest fitting size is chosen and printed. Both resolve through the checkpoint's {@link ElasticModel}, once; the
 * command runs the resolved size.
 */
public final class SizeOptions {

    @Option(names = "--budget", description = "Nested size of an elastic checkpoint: a trained budget or any budget in the trained range (60%%, 0.6, 3M), run from the full weights.")
    String budget;

    @Option(names = "--max-params", paramLabel = "N", description = "Largest nested size with at most N parameters (3M, 1.2B, 2500000, or a fraction 0.6).")
    String maxParams;

    @Option(names = "--max-memory", paramLabel = "SIZE", description = "Largest nested size whose weights + KV cache + Mamba state fit SIZE (2GB, 1.5GiB, 512MiB) at --dtype, --context, --batch.")
    String maxMemory;

    @Option(names = "--max-latency-ms", paramLabel = "MS", description = "Largest nested size whose decode latency (latency.json from 'bench decode') is at most MS ms per token.")
    Double maxLatencyMs;

    @Option(names = "--context", defaultValue = "4096", description = "Tokens of KV cache per sequence for --max-memory (default ${DEFAULT-VALUE}).")
    int context;

    @Option(names = "--batch", defaultValue = "1", description = "Sequences held at once for --max-memory (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--dtype", description = "Weight dtype f32, bf16 or f16: counted by --max-memory (default: the checkpoint's); for slice also the dtype written (default bf16).")
    String dtype;

    /** True when a limit (not a budget) was given. */
    public boolean constrained() {
        return maxParams != null || maxMemory != null || maxLatencyMs != null;
    }

    /** True when a budget or a limit was given. */
    public boolean given() {
        return budget != null || constrained();
    }

    /**
     * The size to run, resolved once by the checkpoint's nested sizes: {@code --budget}, or the largest size meeting
     * the limits (its figures printed to {@code err}); null when neither was given (the whole model).
     *
     * @param sizes   the checkpoint's sizes ({@link ElasticModel#of}), on the mapping the caller runs from
     * @param threads the thread count whose latency measurements apply
     */
    public TrainedBudget resolve(ElasticModel sizes, int threads, PrintStream err) throws IOException {
        if (budget != null && constrained()) {
            throw new UserException("give either --budget or limits (--max-params, --max-memory, --max-latency-ms), not both");
        }
        if (budget != null) {
            return sizes.resolve(budget);
        }
        if (!constrained()) {
            return null;
        }
        if (!sizes.isElastic()) {
            ElasticJson.read(sizes.checkpoint().dir(), sizes.checkpoint().architecture());   // throws, naming elastic.json
        }
        SizeChoice c = sizes.select(constraints(sizes, sizes.checkpoint().dir(), threads));
        err.println("size: " + c.describe(sizes.fullParameters(), memoryModel(sizes.checkpoint()), threads));
        return c.size();
    }

    /** The limits as given, with the memory model and (for --max-latency-ms) the checkpoint's latency profile. */
    SizeConstraints constraints(ElasticModel em, Path model, int threads) throws IOException {
        long full = em.fullParameters();
        long params = -1;
        if (maxParams != null) {
            Budget b;
            try {
                b = Budget.parse(maxParams);
            } catch (IllegalArgumentException e) {
                throw new UserException("--max-params: " + e.getMessage());
            }
            params = b.absolute() >= 0 ? b.absolute() : Math.round(b.fraction() * full);
            if (params < 1) {
                throw new UserException("--max-params must be at least 1 parameter, got '" + maxParams + "'");
            }
        }
        long memory = -1;
        if (maxMemory != null) {
            try {
                memory = MemoryModel.parseBytes(maxMemory);
            } catch (IllegalArgumentException e) {
                throw new UserException("--max-memory: " + e.getMessage());
            }
        }
        double latency = Double.NaN;
        LatencyProfile profile = LatencyProfile.readOrEmpty(model);
        if (maxLatencyMs != null) {
            if (!(maxLatencyMs > 0)) {
                throw new UserException("--max-latency-ms must be positive, got " + maxLatencyMs);
            }
            latency = maxLatencyMs;
            profile = LatencyProfile.read(model);
            profile.estimateMs(full, threads);   // fails early, naming the thread counts measured
        } else if (!profile.threadCounts().contains(threads)) {
            profile = null;   // figures only: no estimate at other thread counts
        }
        return new SizeConstraints(params, memory, latency, memoryModel(em.checkpoint()), profile, threads);
    }

    /** Memory counted at --dtype (default: the dtype the checkpoint stores), --context and --batch. */
    MemoryModel memoryModel(Checkpoint ckpt) throws IOException {
        DType d = dtype != null ? CliSupport.weightDType(dtype) : ckpt.tensor(WeightNames.embeddings()).dtype();
        if (!d.isFloatingPoint() || d == DType.F64) {
            d = DType.F32;
        }
        if (context < 1 || batch < 1) {
            throw new UserException("--context and --batch must be at least 1");
        }
        return new MemoryModel(d, context, batch);
    }
}
