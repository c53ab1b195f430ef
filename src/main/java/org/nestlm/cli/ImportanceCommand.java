package org.nestlm.cli;

import org.nestlm.data.CacheDir;
import org.nestlm.data.Split;
import org.nestlm.dist.World;
import org.nestlm.elastic.DepthImportance;
import org.nestlm.elastic.Importance;
import org.nestlm.elastic.ImportanceConfig;
import org.nestlm.elastic.ImportanceRun;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code nestlm importance}: the flags of the importance stage ({@link ImportanceRun}) as an {@link ImportanceConfig}. */
@Command(name = "importance", mixinStandardHelpOptions = true, defaultValueProvider = ImportanceCommand.Defaults.class,
        description = {"Rank hidden channels, MLP neurons, attention heads (within KV groups), Mamba heads (within groups) "
                + "and head channels by activation magnitude on calibration data (forward passes only), and layers by "
                + "iterative normalized MSE of the logits. Writes rankings.json; with --permute-out also the checkpoint "
                + "with its weights reordered by importance, so that every nested sub-model is a prefix."},
        footer = {"", "Examples:",
                "  nestlm importance --model parent --corpus default --samples 128 --seq-len 512 --out rankings.json",
                "  nestlm importance --model parent --corpus default --min-attention 2 --permute-out parent-permuted",
                "  nestlm importance --model tiny --ids-file ids.txt --samples 4 --seq-len 32"})
final class ImportanceCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Checkpoint directory.")
    Path model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Data data;

    static final class Data {
        @Option(names = "--corpus", description = "'default', 'brown', a file, a directory or a JSONL file; repeatable.")
        List<String> corpus;
        @Option(names = "--ids-file", description = "Whitespace- or comma-separated token ids (no tokenizer needed).")
        Path idsFile;
    }

    @Option(names = "--tokenizer", description = "tokenizer.json for --corpus (default: the one in the model directory).")
    Path tokenizer;

    @Option(names = "--split", defaultValue = "train", description = "Corpus split to calibrate on (default ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--cache-dir", description = "Token cache directory (default: the nestlm cache).")
    Path cacheDir;

    @Option(names = "--samples", description = "Calibration sequences (default ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--seq-len", description = "Tokens per sequence (default ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(names = "--batch", description = "Sequences per forward pass (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--out", defaultValue = "rankings.json", description = "Rankings file to write (default ${DEFAULT-VALUE}).")
    Path out;

    @ArgGroup(exclusive = true)
    Attention attention;

    static final class Attention {
        @Option(names = "--protect-attention", description = "Never drop attention layers (the default).")
        boolean protect;
        @Option(names = "--min-attention", description = "Attention layers may be dropped while at least N remain.")
        Integer min;
    }

    @Option(names = "--depth-samples",
            description = "Sequences (the first of the calibration set) for the depth search (default ${DEFAULT-VALUE}).")
    int depthSamples;

    @Option(names = "--max-removals",
            description = "Stop the depth search after N removals (default ${DEFAULT-VALUE}: until only protected layers are left).")
    int maxRemovals;

    @Option(names = "--no-depth", description = "Skip the depth search (the rankings hold an empty removal order).")
    boolean noDepth;

    @Option(names = "--mamba-ranking-head-dim",
            description = "m_d*: Mamba head scores use the top N head channels; set it to the smallest head-dim "
                    + "candidate (default ${DEFAULT-VALUE}: the full head dim).")
    int mambaRankingHeadDim;

    @Option(names = "--permute-out", description = "Also write the permuted checkpoint (config, weights, rankings.json, tokenizer) here.")
    Path permuteOut;

    @Option(names = "--dtype", description = "Weight dtype of the permuted checkpoint: f32, bf16 or f16 (default: as the model).")
    String dtype;

    @picocli.CommandLine.Mixin
    TrainThreadsOption threads;

    @Option(names = "--quiet", description = "No progress bar.")
    boolean quiet;

    /** The options' defaults: {@link ImportanceConfig#defaults}. */
    static final class Defaults extends ConfigDefaults {
        Defaults() {
            super(values(ImportanceConfig.defaults()));
        }

        static Map<String, Object> values(ImportanceConfig d) {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("--samples", d.samples());
            m.put("--seq-len", d.seqLen());
            m.put("--batch", d.estimator().batchSize());
            m.put("--depth-samples", d.estimator().depthSamples());
            m.put("--max-removals", d.estimator().depth().maxRemovals());
            m.put("--mamba-ranking-head-dim", d.estimator().mambaRankingHeadDim());
            return m;
        }
    }

    /** The run's settings: the options given, the record's defaults for the rest. */
    ImportanceConfig config() {
        if (samples < 1 || seqLen < 1 || batch < 1 || depthSamples < 1) {
            throw new UserException("--samples, --seq-len, --batch and --depth-samples must be positive");
        }
        DepthImportance.Options depth = null;
        if (!noDepth) {
            depth = attention != null && attention.min != null
                    ? DepthImportance.Options.minAttention(attention.min) : DepthImportance.Options.attentionProtected();
            depth = depth.withMaxRemovals(maxRemovals);
        }
        return new ImportanceConfig(samples, seqLen, new Importance.Options(batch, mambaRankingHeadDim, depth, depthSamples));
    }

    @Override
    public Integer call() throws Exception {
        threads.apply();
        ImportanceConfig config = config();
        if (permuteOut != null && permuteOut.toAbsolutePath().normalize().equals(model.toAbsolutePath().normalize())) {
            throw new UserException("--permute-out must differ from --model (the original weights are read from it)");
        }
        ImportanceRun run = new ImportanceRun(model, config, World.communicator(), System.out).withProgress(!quiet);
        if (permuteOut != null) {
            run.withPermuted(permuteOut, dtype != null ? CliSupport.weightDType(dtype) : null);
        }
        run.run(calibration(), out);
        return 0;
    }

    private ImportanceRun.Calibration calibration() throws IOException {
        if (data.idsFile != null) {
            String text = Files.readString(data.idsFile, StandardCharsets.UTF_8).trim();
            if (text.isEmpty()) {
                throw new UserException(data.idsFile + ": no token ids");
            }
            return new ImportanceRun.IdsCalibration(CliSupport.parseIds(text), data.idsFile);
        }
        return new ImportanceRun.CorpusCalibration(data.corpus, tokenizer, Split.parse(split), CacheDir.resolve(cacheDir));
    }
}
