package org.nestlm.elastic;

import ai.djl.ndarray.NDManager;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.nestlm.data.Corpora;
import org.nestlm.data.Corpus;
import org.nestlm.data.Split;
import org.nestlm.dist.Communicator;
import org.nestlm.io.CheckpointFormatException;
import org.nestlm.io.DType;
import org.nestlm.model.Checkpoint;
import org.nestlm.model.NemotronH;
import org.nestlm.model.WeightNames;
import org.nestlm.tokenizer.TextTokenizer;
import org.nestlm.tokenizer.TokenCache;
import org.nestlm.tokenizer.TokenIds;
import org.nestlm.train.RunDirectory;
import org.nestlm.train.TokenSource;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The importance stage: a checkpoint's rankings ({@link Importance#estimate}) on calibration windows, written as
 * rankings.json, and optionally the permuted checkpoint ({@link Permutation}: same function, every nested sub-model a
 * prefix) with identity rankings, the source of the elastic run.
 *
 * <p>Under MPI every rank calls {@link #run}: rank 0 builds the token cache and writes, the calibration windows are
 * shared out over the ranks.
 */
public final class ImportanceRun {

    /** Where the calibration windows come from. */
    public sealed interface Calibration permits CorpusCalibration, IdsCalibration {
    }

    /**
     * A split of a corpus through the token cache.
     *
     * @param tokenizer the tokenizer.json; null: the model's
     * @param cache     the cache directory, already resolved
     */
    public record CorpusCalibration(List<String> corpus, Path tokenizer, Split split, Path cache) implements Calibration {
    }

    /** Token ids given directly, read from {@code file} (named in messages). */
    public record IdsCalibration(long[] ids, Path file) implements Calibration {
    }

    private final Path model;
    private final ImportanceConfig config;
    private final Communicator comm;
    private final PrintStream console;
    private boolean progress = true;
    private Path permuteOut;
    private DType dtype;

    /** @param model the checkpoint directory to rank */
    public ImportanceRun(Path model, ImportanceConfig config, Communicator comm, PrintStream console) {
        this.model = model;
        this.config = config;
        this.comm = comm;
        this.console = console;
    }

    /** Progress bars (the token cache's, the depth search's on a terminal); default on. */
    public ImportanceRun withProgress(boolean on) {
        this.progress = on;
        return this;
    }

    /**
     * Also writes the permuted checkpoint (config, weights, rankings.json, tokenizer) into {@code dir}.
     *
     * @param weights its weight dtype; null: as the model's
     */
    public ImportanceRun withPermuted(Path dir, DType weights) {
        this.permuteOut = dir;
        this.dtype = weights;
        return this;
    }

    /** Ranks the model on {@code data}, writes the rankings to {@code out} (rank 0) and returns them. */
    public Rankings run(Calibration data, Path out) throws IOException {
        // the permuted checkpoint's directory is this process's (rank 0's in an MPI job) for the whole run: a second
        // importance run writing there fails at once
        try (RunDirectory owned = permuteOut != null && comm.isRoot() ? RunDirectory.open(permuteOut) : null;
             Checkpoint ckpt = Checkpoint.open(model); NDManager manager = NDManager.newBaseManager()) {
            Rankings rankings;
            try (NemotronH net = NemotronH.load(ckpt, manager)) {
                comm.waitForRoot();   // rank 0 first builds the token cache
                Windows cal = windows(ckpt, data);
                comm.releaseOthers();
                try (ProgressBar bar = !progress || !comm.isRoot() ? null : progressBar()) {
                    rankings = Importance.estimate(net, Importance.windows(cal.source(), config.samples(), config.seqLen()),
                            config.estimator(), cal.description(), listener(bar), comm);
                } finally {
                    cal.close();
                }
            }
            rankings.validate(ckpt.architecture(), out.toString());
            if (!comm.isRoot()) {
                return rankings;   // rank 0 writes
            }
            RankingsJson.write(out, rankings);
            console.println("wrote " + out + " (" + rankings.calibration().samples() + " x " + config.seqLen() + " tokens from "
                    + rankings.calibration().source() + ")");
            Rankings.Depth d = rankings.depth();
            if (d.removalOrder().length > 0) {
                StringBuilder sb = new StringBuilder("depth removal order (least important first):");
                for (int i = 0; i < d.removalOrder().length; i++) {
                    sb.append(String.format(Locale.ROOT, " %d(%.4g)", d.removalOrder()[i], d.normalizedMse()[i]));
                }
                console.println(sb);
            }
            if (permuteOut != null) {
                writePermuted(ckpt, rankings);
            }
            return rankings;
        }
    }

    private void writePermuted(Checkpoint ckpt, Rankings rankings) throws IOException {
        DType dt = dtype != null ? dtype : storedDType(ckpt);
        Map<String, float[]> weights = new LinkedHashMap<>();
        for (String name : ckpt.architecture().tensorShapes().keySet()) {
            weights.put(name, ckpt.floats(name));
        }
        Map<String, float[]> permuted = Permutation.apply(weights, ckpt.architecture(), rankings);
        Checkpoint.write(permuteOut, ckpt.config(), permuted, ckpt.architecture(), dt);
        RankingsJson.write(permuteOut.resolve(RankingsJson.FILE), rankings.permuted());
        Checkpoint.copyTokenizer(model, permuteOut);
        console.println("wrote permuted checkpoint " + permuteOut + " (" + dt + ", rankings are the identity)");
    }

    private static DType storedDType(Checkpoint ckpt) {
        try {
            DType d = ckpt.tensor(WeightNames.embeddings()).dtype();
            return d == DType.BF16 || d == DType.F16 ? d : DType.F32;
        } catch (CheckpointFormatException e) {
            return DType.F32;
        }
    }

    /** The calibration token stream and what it is, with whatever must be closed after use. */
    private record Windows(TokenSource source, String description, TokenIds owner) implements AutoCloseable {
        @Override
        public void close() {
            if (owner != null) {
                owner.close();
            }
        }
    }

    private Windows windows(Checkpoint ckpt, Calibration data) throws IOException {
        int vocab = ckpt.config().vocabSize();
        if (data instanceof IdsCalibration given) {
            int[] v = new int[given.ids().length];
            for (int i = 0; i < v.length; i++) {
                if (given.ids()[i] >= vocab) {
                    throw new IllegalArgumentException(given.file() + ": token id " + given.ids()[i]
                            + " is outside the vocabulary of " + vocab);
                }
                v[i] = (int) given.ids()[i];
            }
            return new Windows(TokenSource.of(v, 0), "ids " + given.file().getFileName(), null);
        }
        CorpusCalibration c = (CorpusCalibration) data;
        Corpus corpus = Corpora.open(c.corpus(), c.cache());
        Path tok = c.tokenizer() != null ? c.tokenizer() : ckpt.tokenizer().orElseThrow(() ->
                new IllegalArgumentException(model + " has no tokenizer.json; pass --tokenizer FILE or use --ids-file"));
        try (TextTokenizer t = TextTokenizer.load(tok)) {
            TokenIds ids = TokenCache.ids(c.cache(), corpus, c.split(), t, progress);
            TokenSource src = new TokenSource(ids.buffer(), ids.info().bytes());
            for (int i = 0; i < src.size(); i++) {
                if (src.get(i) >= vocab) {
                    ids.close();
                    throw new IllegalArgumentException("the tokenizer produced id " + src.get(i)
                            + ", outside the model's vocabulary of " + vocab);
                }
            }
            return new Windows(src, corpus.description() + " (" + c.split().label() + ")", ids);
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
