package org.nestlm.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nestlm.sizes.TrainedBudget;
import org.nestlm.infer.ResidentMemory;
import org.nestlm.model.Checkpoint;
import org.nestlm.sizes.ElasticBudgets;
import java.util.List;
import org.nestlm.model.Architecture;
import org.nestlm.model.ConfigJson;
import org.nestlm.model.LayerKind;
import org.nestlm.model.LayerSpec;
import org.nestlm.model.ModelConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code nestlm info}: the architecture of a checkpoint, read from its config and tensor shapes. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Print a checkpoint's architecture: layers by type, dimensions, parameter counts, weight memory.",
        footer = {"", "Example:", "  nestlm info tiny"})
final class InfoCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL_DIR", description = "Checkpoint directory.")
    Path model;

    @Option(names = "--json", description = "Print one JSON object instead of a table.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        try (Checkpoint ckpt = Checkpoint.open(model)) {
            Architecture a = ckpt.architecture();
            ModelConfig c = a.config();
            // read (and validate) elastic.json before printing anything, so a bad one leaves only the error
            List<TrainedBudget> budgets = ElasticBudgets.isElastic(model) ? ElasticBudgets.trained(model, a) : null;
            if (json) {
                System.out.println(JsonOutput.write(toJson(ckpt, budgets), true));
                return 0;
            }
            System.out.printf("%s  (%s)%n", model, c.modelType());
            System.out.printf("  layers        %d: %d Mamba-2 (M), %d attention (*), %d MLP (-)   pattern %s%n",
                    a.layers().size(), a.countLayers(LayerKind.MAMBA), a.countLayers(LayerKind.ATTENTION),
                    a.countLayers(LayerKind.MLP), c.hybridOverridePattern());
            System.out.printf("  hidden        %d   vocab %d   norm eps %.0e%n", a.hiddenSize(), c.vocabSize(), c.layerNormEpsilon());
            System.out.printf("  mamba         groups %d, state %d, conv %d, chunk %d, dt limit [%s, %s]%n", c.nGroups(),
                    c.ssmStateSize(), c.convKernel(), c.chunkSize(), c.timeStepLimitMin(), c.timeStepLimitMax());
            System.out.printf("  homogeneous   %s%n", a.isHomogeneous() ? "yes" : "no (per-layer sizes from tensor shapes)");
            System.out.println();
            System.out.println("  layer  type       dimensions                          parameters");
            for (int i = 0; i < a.layers().size(); i++) {
                System.out.printf("  %5d  %-9s  %-34s  %,d%n", i, a.layers().get(i).kind().name().toLowerCase(),
                        describe(a.layers().get(i)), a.layerParameterCount(i));
            }
            System.out.printf("  %5s  %-9s  %-34s  %,d%n", "", "embed+head", "V x H x 2 + norm_f", a.nonLayerParameterCount());
            System.out.println();
            long p = a.parameterCount();
            System.out.printf("  parameters    %,d (%s)%n", p, CliSupport.count(p));
            System.out.printf("  weights       %s at F32, %s at BF16; %s as stored%n", CliSupport.bytes(a.weightBytes(4)),
                    CliSupport.bytes(a.weightBytes(2)), CliSupport.bytes(ckpt.weightBytes()));
            System.out.printf("  tokenizer     %s%n", ckpt.tokenizer().map(Path::toString).orElse("none (use --ids)"));
            System.out.printf("  resident      %s of the mapped weights are in memory now (page cache)%n",
                    CliSupport.bytes(Math.max(0, ResidentMemory.residentWeightBytes(ckpt))));
            if (budgets != null) {
                int bytes = storedBytesPerElement(ckpt);
                System.out.println();
                System.out.println("  elastic budgets (nested sizes, served from this one mapping):");
                System.out.println("  budget      parameters         share   hidden  layers  weights");
                long separate = ckpt.weightBytes();
                for (TrainedBudget b : budgets) {
                    Architecture cut = b.subnet().architecture(c);
                    System.out.printf(java.util.Locale.ROOT, "  %-10s  %,17d  %6.1f %%  %6d  %6d  %s%n", b.budget(), b.parameters(),
                            100.0 * b.parameters() / p, cut.hiddenSize(), cut.layers().size(),
                            CliSupport.bytes(b.parameters() * bytes));
                    separate += b.parameters() * bytes;
                }
                System.out.printf("  all %d sizes: %s from this checkpoint; %s as separate sliced checkpoints%n", budgets.size() + 1,
                        CliSupport.bytes(ckpt.weightBytes()), CliSupport.bytes(separate));
            }
        }
        return 0;
    }

    /** Bytes per stored element (from the embedding's dtype; checkpoints are written in one dtype). */
    static int storedBytesPerElement(Checkpoint ckpt) throws java.io.IOException {
        return ckpt.tensor(org.nestlm.model.WeightNames.embeddings()).dtype().byteSize();
    }

    static String describe(LayerSpec s) {
        return switch (s) {
            case LayerSpec.Mamba m -> m.heads() + " heads x " + m.headDim() + " (I " + m.innerSize() + ")";
            case LayerSpec.Attention at -> at.heads() + " q / " + at.kvHeads() + " kv heads x " + at.headDim();
            case LayerSpec.Mlp f -> f.width() + " neurons";
        };
    }

    private static ObjectNode toJson(Checkpoint ckpt, List<TrainedBudget> budgets) throws java.io.IOException {
        Architecture a = ckpt.architecture();
        ObjectNode o = ConfigJson.MAPPER.createObjectNode();
        o.put("model", ckpt.dir().toString());
        o.put("pattern", a.config().hybridOverridePattern());
        o.put("hidden_size", a.hiddenSize());
        o.put("vocab_size", a.config().vocabSize());
        o.put("homogeneous", a.isHomogeneous());
        o.put("parameters", a.parameterCount());
        o.put("bytes_f32", a.weightBytes(4));
        o.put("bytes_bf16", a.weightBytes(2));
        o.put("bytes_stored", ckpt.weightBytes());
        o.put("resident_weight_bytes", ResidentMemory.residentWeightBytes(ckpt));
        if (budgets != null) {
            ArrayNode bs = o.putArray("elastic_budgets");
            int bytes = storedBytesPerElement(ckpt);
            for (TrainedBudget b : budgets) {
                Architecture cut = b.subnet().architecture(a.config());
                bs.addObject().put("budget", b.budget()).put("parameters", b.parameters()).put("hidden_size", cut.hiddenSize())
                        .put("layers", cut.layers().size()).put("bytes_stored", b.parameters() * bytes);
            }
        }
        ArrayNode layers = o.putArray("layers");
        for (int i = 0; i < a.layers().size(); i++) {
            ObjectNode l = layers.addObject();
            LayerSpec s = a.layers().get(i);
            l.put("type", s.kind().name().toLowerCase());
            switch (s) {
                case LayerSpec.Mamba m -> l.put("heads", m.heads()).put("head_dim", m.headDim());
                case LayerSpec.Attention at -> l.put("heads", at.heads()).put("kv_heads", at.kvHeads()).put("head_dim", at.headDim());
                case LayerSpec.Mlp f -> l.put("width", f.width());
            }
            l.put("parameters", a.layerParameterCount(i));
        }
        return o;
    }
}
