package org.nestlm.cli;

import ai.djl.ndarray.NDManager;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.nestlm.data.CacheDir;
import org.nestlm.data.Corpora;
import org.nestlm.data.Corpus;
import org.nestlm.data.Split;
import org.nestlm.tokenizer.TokenCache;
import org.nestlm.tokenizer.TokenIds;
import org.nestlm.dist.Communicator;
import org.nestlm.dist.World;
import org.nestlm.elastic.DepthImportance;
import org.nestlm.elastic.Importance;
import org.nestlm.elastic.ImportanceConfig;
import org.nestlm.elastic.Permutation;
import org.nestlm.elastic.Rankings;
import org.nestlm.elastic.RankingsJson;
import org.nestlm.model.Checkpoint;
import org.nestlm.io.DType;
import org.nestlm.model.NemotronH;
import org.nestlm.model.WeightNames;
import org.nestlm.tokenizer.TextTokenizer;
import org.nestlm.train.RunDirectory;
import org.nestlm.train.TokenSource;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code nestlm importance}: width and depth importance rankings of a model, optionally the permuted checkpoint. */
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
        Communicator comm = World.communicator();
        // --permute-out is this process's (rank 0's in an MPI job) for the whole run: a second importance writing there
        // fails at once
        try (RunDirectory owned = permuteOut != null && comm.isRoot() ? RunDirectory.open(permuteOut) : null;
             Checkpoint ckpt = Checkpoint.open(model); NDManager manager = NDManager.newBaseManager()) {
            Rankings rankings;
            try (NemotronH net = NemotronH.load(ckpt, manager)) {
                comm.waitForRoot();   // rank 0 first builds the token cache
                Calibration cal = calibration(ckpt);
                comm.releaseOthers();
                try (ProgressBar bar = quiet || !comm.isRoot() ? null : progressBar()) {
                    rankings = Importance.estimate(net, Importance.windows(cal.source(), config.samples(), config.seqLen()),
                            config.estimator(),
                            cal.description(), listener(bar), comm);
                } finally {
                    cal.close();
                }
            }
            rankings.validate(ckpt.architecture(), out.toString());
            if (!comm.isRoot()) {
                return 0;   // rank 0 writes
            }
            RankingsJson.write(out, rankings);
            System.out.println("wrote " + out + " (" + rankings.calibration().samples() + " x " + seqLen + " tokens from "
                    + rankings.calibration().source() + ")");
            Rankings.Depth d = rankings.depth();
            if (d.removalOrder().length > 0) {
                StringBuilder sb = new StringBuilder("depth removal order (least important first):");
                for (int i = 0; i < d.removalOrder().length; i++) {
                    sb.append(String.format(Locale.ROOT, " %d(%.4g)", d.removalOrder()[i], d.normalizedMse()[i]));
                }
                System.out.println(sb);
            }
            if (permuteOut != null) {
                writePermuted(ckpt, rankings);
            }
        }
        return 0;
    }

    private void writePermuted(Checkpoint ckpt, Rankings rankings) throws IOException {
        DType dt = dtype != null ? CliSupport.weightDType(dtype) : storedDType(ckpt);
        Map<String, float[]> weights = new java.util.LinkedHashMap<>();
        for (String name : ckpt.architecture().tensorShapes().keySet()) {
            weights.put(name, ckpt.floats(name));
        }
        Map<String, float[]> permuted = Permutation.apply(weights, ckpt.architecture(), rankings);
        Checkpoint.write(permuteOut, ckpt.config(), permuted, ckpt.architecture(), dt);
        RankingsJson.write(permuteOut.resolve(RankingsJson.FILE), rankings.permuted());
        Checkpoint.copyTokenizer(model, permuteOut);
        System.out.println("wrote permuted checkpoint " + permuteOut + " (" + dt + ", rankings are the identity)");
    }

    private static DType storedDType(Checkpoint ckpt) {
        try {
            DType d = ckpt.tensor(WeightNames.embeddings()).dtype();
            return d == DType.BF16 || d == DType.F16 ? d : DType.F32;
        } catch (org.nestlm.io.CheckpointFormatException e) {
            return DType.F32;
        }
    }

    /** The calibration token stream and what it is, with whatever must be closed after use. */
    private record Calibration(TokenSource source, String description, AutoCloseable owner) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            if (owner != null) {
                owner.close();
            }
        }
    }

    private Calibration calibration(Checkpoint ckpt) throws Exception {
        int vocab = ckpt.config().vocabSize();
        if (data.idsFile != null) {
            String text = Files.readString(data.idsFile, StandardCharsets.UTF_8).trim();
            if (text.isEmpty()) {
                throw new UserException(data.idsFile + ": no token ids");
            }
            long[] ids = CliSupport.parseIds(text);
            int[] v = new int[ids.length];
            for (int i = 0; i < ids.length; i++) {
                if (ids[i] >= vocab) {
                    throw new UserException(data.idsFile + ": token id " + ids[i] + " is outside the vocabulary of " + vocab);
                }
                v[i] = (int) ids[i];
            }
            return new Calibration(TokenSource.of(v, 0), "ids " + data.idsFile.getFileName(), null);
        }
        Path cache = CacheDir.resolve(cacheDir);
        Corpus corpus = Corpora.open(data.corpus, cache);
        Path tok = tokenizer != null ? tokenizer : ckpt.tokenizer().orElseThrow(() ->
                new UserException(model + " has no tokenizer.json; pass --tokenizer FILE or use --ids-file"));
        Split s = Split.parse(split);
        try (TextTokenizer t = TextTokenizer.load(tok)) {
            TokenIds ids = TokenCache.ids(cache, corpus, s, t, !quiet);
            TokenSource src = new TokenSource(ids.buffer(), ids.info().bytes());
            for (int i = 0; i < src.size(); i++) {
                if (src.get(i) >= vocab) {
                    ids.close();
                    throw new UserException("the tokenizer produced id " + src.get(i) + ", outside the model's vocabulary of " + vocab);
                }
            }
            return new Calibration(src, corpus.description() + " (" + s.label() + ")", ids);
        }
    }

    /** A bar on an interactive terminal only (plain pipes and CI logs get the summary lines). */
    private static ProgressBar progressBar() {
        if (System.console() == null || !System.console().isTerminal()) {
            return null;
        }
        return new ProgressBarBuilder().setTaskName("depth").setInitialMax(1).setUnit(" eval", 1)
                .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BAR).build();
    }

    private static DepthImportance.Listener listener(ProgressBar bar) {
        if (bar == null) {
            return DepthImportance.Listener.NONE;
        }
        return new DepthImportance.Listener() {
            public void start(long evaluations) {
                bar.maxHint(Math.max(1, evaluations));
            }

            public void evaluated(int round, int layer, double mse) {
                bar.step();
                bar.setExtraMessage(String.format(Locale.ROOT, "round %d layer %d mse %.3g", round, layer, mse));
            }
        };
    }
}
