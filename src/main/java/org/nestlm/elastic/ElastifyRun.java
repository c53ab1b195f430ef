package org.nestlm.elastic;

import ai.djl.ndarray.NDManager;
import org.nestlm.data.Corpora;
import org.nestlm.data.Corpus;
import org.nestlm.data.Split;
import org.nestlm.dist.Communicator;
import org.nestlm.model.Checkpoint;
import org.nestlm.model.LayerKind;
import org.nestlm.model.NemotronH;
import org.nestlm.sizes.TrainedBudget;
import org.nestlm.tokenizer.TextTokenizer;
import org.nestlm.tokenizer.TokenCache;
import org.nestlm.tokenizer.TokenIds;
import org.nestlm.train.RunDirectory;
import org.nestlm.train.TokenSource;
import org.nestlm.util.Units;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The elastify stage around {@link Elastify}: the teacher permuted by its rankings (same function; the student starts
 * as its copy), the corpus's train and validation splits through the token cache, and the finished elastic
 * checkpoint completed with the tokenizer and the rankings in the permuted order.
 *
 * <p>Under MPI every rank calls {@link #run}: rank 0 owns the output directory, builds the token caches and writes.
 */
public final class ElastifyRun {

    private final Path teacher;
    private final ElastifyConfig config;
    private final Communicator comm;
    private final PrintStream console;
    private Path rankings;
    private Path tokenizer;
    private int stopAfter;

    /** @param teacher the parent checkpoint (frozen teacher) */
    public ElastifyRun(Path teacher, ElastifyConfig config, Communicator comm, PrintStream console) {
        this.teacher = teacher;
        this.config = config;
        this.comm = comm;
        this.console = console;
    }

    /** The importance rankings; default (null) {@code TEACHER/rankings.json}. */
    public ElastifyRun withRankings(Path file) {
        this.rankings = file;
        return this;
    }

    /** The tokenizer.json; default (null) the teacher's. */
    public ElastifyRun withTokenizer(Path file) {
        this.tokenizer = file;
        return this;
    }

    /** Stops after this many steps, as if killed (tests of resuming). 0: never. */
    public ElastifyRun withStopAfter(int steps) {
        this.stopAfter = steps;
        return this;
    }

    /**
     * Trains the elastic model on {@code corpus} into {@code out}, or continues the killed run there.
     *
     * @param cache the cache directory (fetched corpus, token caches), already resolved
     */
    public Elastify.Result run(List<String> corpus, Path cache, Path out, boolean resume) throws IOException {
        Path rankFile = rankings != null ? rankings : teacher.resolve(RankingsJson.FILE);
        if (!Files.isRegularFile(rankFile)) {
            throw new IllegalArgumentException(rankFile + " not found: rank the teacher first with 'nestlm importance --model "
                    + teacher + " --corpus …', or pass --rankings FILE");
        }
        comm.waitForRoot();   // rank 0 first holds out and builds the token caches
        // out is this process's (rank 0's in an MPI job) until the elastic checkpoint is complete: a second elastic run on
        // it fails at once
        try (RunDirectory owned = comm.isRoot() ? RunDirectory.open(out) : null;
             Checkpoint ckpt = Checkpoint.open(teacher); NDManager manager = NDManager.newBaseManager()) {
            Rankings r = RankingsJson.read(rankFile).validate(ckpt.architecture(), rankFile.toString());
            Path tokFile = tokenizer != null ? tokenizer : ckpt.tokenizer().orElseThrow(() ->
                    new IllegalArgumentException(teacher + " has no tokenizer.json; pass --tokenizer FILE"));
            // the teacher's function does not change under the permutation, so teacher and student share the permuted weights
            Map<String, float[]> weights = new LinkedHashMap<>();
            for (String name : ckpt.architecture().tensorShapes().keySet()) {
                weights.put(name, ckpt.floats(name));
            }
            if (!r.isWidthIdentity()) {
                weights = Permutation.apply(weights, ckpt.architecture(), r);
            }
            List<Integer> removal = new ArrayList<>();
            Arrays.stream(r.depth().removalOrder()).forEach(removal::add);
            if (removal.isEmpty()) {
                console.println("note      the rankings hold no depth order: depth is not elastic in this run");
            }
            Corpus c = Corpora.open(corpus, cache);
            final Map<String, float[]> permuted = weights;
            try (NemotronH t = NemotronH.fromTensors(ckpt.architecture(), manager, permuted::get);
                 TextTokenizer tok = TextTokenizer.load(tokFile);
                 TokenIds trainIds = TokenCache.ids(cache, c, Split.TRAIN, tok, true);
                 TokenIds valIds = TokenCache.ids(cache, c, Split.VALIDATION, tok, true)) {
                comm.releaseOthers();
                long full = ckpt.architecture().parameterCount();
                console.printf(Locale.ROOT, "teacher   %s: %s parameters, %d layers (%d Mamba, %d attention, %d MLP)%n", teacher,
                        Units.count(full), ckpt.architecture().layers().size(), ckpt.architecture().countLayers(LayerKind.MAMBA),
                        ckpt.architecture().countLayers(LayerKind.ATTENTION), ckpt.architecture().countLayers(LayerKind.MLP));
                console.printf(Locale.ROOT, "schedule  stage 1: %d steps at %d tokens; stage 2: %d steps at %d tokens; budgets %s%n",
                        config.stage1Steps(), config.batching().seqLen(), config.stage2Steps(), config.stage2SeqLen(),
                        config.budgets());
                long t0 = System.nanoTime();
                Elastify.Result result = new Elastify(out, config, TokenSource.of(trainIds), TokenSource.of(valIds), console)
                        .withCommunicator(comm)
                        .run(t, removal, resume, stopAfter);
                if (comm.isRoot()) {
                    Checkpoint.copyTokenizerFile(tokFile, out);
                    RankingsJson.write(out.resolve(RankingsJson.FILE), r.isWidthIdentity() ? r : r.permuted());
                }
                console.printf(Locale.ROOT, "done: %d steps in %.1f s%n", result.steps(), (System.nanoTime() - t0) / 1e9);
                console.println("  budget      target        resolved      deviation   held-out loss   cut, untrained");
                for (TrainedBudget b : result.budgets()) {
                    console.printf(Locale.ROOT, "  %-9s %,12d  %,12d   %+7.2f %%   %13.4f   %14.4f%n", b.budget(), b.target(),
                            b.parameters(), 100 * b.deviation(), result.valLoss().getOrDefault(b.budget(), Double.NaN),
                            result.untrainedCutLoss().getOrDefault(b.budget(), Double.NaN));
                }
                console.println("wrote " + out + ": config.json, model.safetensors, elastic.json, rankings.json, log.jsonl, kd.png, val.png");
                return result;
            }
        }
    }
}
