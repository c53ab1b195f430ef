package org.nestlm.cli;

import org.nestlm.sizes.Subnet;
import org.nestlm.sizes.TrainedBudget;
import org.nestlm.model.Checkpoint;
import org.nestlm.io.DType;
import org.nestlm.sizes.ElasticBudgets;
import org.nestlm.sizes.ElasticJson;
import org.nestlm.sizes.ElasticModel;
import org.nestlm.slice.SlicePlan;
import org.nestlm.slice.Slicer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code nestlm slice}: cut one nested size out of an elastic checkpoint as a standalone Nemotron-H checkpoint. */
@Command(name = "slice", mixinStandardHelpOptions = true,
        description = "Write the standalone Nemotron-H checkpoint of one nested size of an elastic checkpoint (no training).",
        footer = {"", "Examples:", "  nestlm slice --model elastic --budget 50% --out elastic-50",
                "  nestlm slice --model elastic --budget 60% --out elastic-60   (interpolated between trained 50% and 75%)",
                "  nestlm slice --model elastic --max-memory 2GiB --context 8192 --out fits-2g",
                "  nestlm slice --model elastic --config my-layers.json --out custom --dtype f32"})
final class SliceCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Elastic checkpoint directory (with elastic.json).")
    Path model;

    /** The size to cut: a budget (trained or interpolated) or limits; exclusive with --config. */
    @Mixin
    SizeOptions size;

    @Option(names = "--config", description = "JSON file with a per-layer sub-model (the 'subnet' form of elastic.json); instead of a budget or limits.")
    Path config;

    @Option(names = "--out", required = true, description = "New directory for the sliced checkpoint.")
    Path out;

    @Override
    public Integer call() throws Exception {
        if ((config != null) == size.given()) {
            throw new UserException("give exactly one of --budget, limits (--max-params, --max-memory, --max-latency-ms) or --config");
        }
        // the written dtype is also the one --max-memory counts: the sliced checkpoint is what gets deployed
        if (size.dtype == null) {
            size.dtype = "bf16";
        }
        DType d = CliSupport.weightDType(size.dtype);
        try (Checkpoint ckpt = Checkpoint.open(model)) {
            Subnet sub;
            String label;
            if (config != null) {
                sub = ElasticBudgets.fromFile(config, ckpt.architecture());
                label = "custom:" + config.getFileName();
            } else {
                ElasticModel sizes = ElasticModel.of(ckpt);
                if (!sizes.isElastic()) {
                    ElasticJson.read(model, ckpt.architecture());   // throws, naming elastic.json
                }
                TrainedBudget b = size.resolve(sizes, Runtime.getRuntime().availableProcessors(), System.err);
                sub = b.subnet();
                label = size.budget != null ? size.budget : b.budget();   // as the user wrote it, or the chosen size's
            }
            SlicePlan plan = Slicer.write(ckpt, sub, label, out, d);
            long full = ckpt.architecture().parameterCount(), params = plan.parameterCount();
            System.out.printf(java.util.Locale.ROOT, "sliced %s (%s) → %s: %s parameters (%d, %.1f %% of %s), %d layers, hidden %d, %s%n",
                    model, label, out, CliSupport.count(params), params, 100.0 * params / full, CliSupport.count(full),
                    plan.cut().layers().size(), plan.cut().hiddenSize(), plan.cut().isHomogeneous() ? "homogeneous" : "per-layer sizes");
        }
        return 0;
    }
}
