package org.nestlm.cli;

import ai.djl.ndarray.NDManager;
import org.nestlm.data.CacheDir;
import org.nestlm.data.Corpora;
import org.nestlm.data.Corpus;
import org.nestlm.data.Split;
import org.nestlm.tokenizer.TokenCache;
import org.nestlm.tokenizer.TokenIds;
import org.nestlm.dist.Communicator;
import org.nestlm.dist.World;
import org.nestlm.elastic.Elastify;
import org.nestlm.elastic.ElastifyConfig;
import org.nestlm.elastic.Permutation;
import org.nestlm.elastic.Rankings;
import org.nestlm.elastic.RankingsJson;
import org.nestlm.elastic.Router;
import org.nestlm.sizes.TrainedBudget;
import org.nestlm.model.Checkpoint;
import org.nestlm.model.LayerKind;
import org.nestlm.model.NemotronH;
import org.nestlm.tokenizer.TextTokenizer;
import org.nestlm.train.Batching;
import org.nestlm.train.Cadence;
import org.nestlm.train.RunDirectory;
import org.nestlm.train.TokenSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code nestlm elastify}: elastic distillation of a parent into one checkpoint holding nested budgets. */
@Command(name = "elastify", mixinStandardHelpOptions = true, defaultValueProvider = ElastifyCommand.Defaults.class,
        description = {"Train one elastic model for several parameter budgets at once: a frozen teacher, a student "
                + "initialised from the importance-permuted teacher, a learned router, forward-KL distillation.",
                "The output is an elastic checkpoint: permuted weights (Nemotron-H layout) + elastic.json "
                        + "(docs/ELASTIC_FORMAT.md); slice any budget out with 'nestlm slice'."},
        footer = {"", "Examples:",
                "  nestlm importance --model parent --corpus default --out parent/rankings.json",
                "  nestlm elastify --teacher parent --budgets 1.0,0.75,0.5 --corpus default --tokens 2000000 --out elastic"})
final class ElastifyCommand implements Callable<Integer> {

    @Option(names = "--teacher", required = true, description = "The parent checkpoint (frozen teacher; the student starts as its copy).")
    Path teacher;

    @Option(names = "--rankings", description = "Importance rankings (default: TEACHER/rankings.json, from 'nestlm importance').")
    Path rankings;

    @Option(names = "--budgets", required = true, split = ",", description = "Parameter budgets: fractions (1.0,0.75,0.5) or counts (3M).")
    List<String> budgets;

    @Option(names = "--corpus", required = true, description = "'default', 'brown', a file, a directory or a JSONL file; repeatable.")
    List<String> corpus;

    @Option(names = "--tokenizer", description = "tokenizer.json (default: the teacher's).")
    Path tokenizer;

    @Option(names = "--cache-dir", description = "Token cache directory (default: the nestlm cache).")
    Path cacheDir;

    @Option(names = "--tokens", required = true, description = "Student tokens over both stages.")
    long tokens;

    @Option(names = "--out", required = true, description = "Output directory: the elastic checkpoint and the run's state.")
    Path out;

    @Option(names = "--resume", description = "Continue a killed run in --out (same settings).")
    boolean resume;

    @Option(names = "--seq-len", description = "Stage-1 sequence length (default ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(names = "--stage2-multiplier", description = "Stage-2 context = seq-len × this (default ${DEFAULT-VALUE}).")
    int stage2Multiplier;

    @Option(names = "--stage1-fraction", description = "Share of tokens in stage 1 (default ${DEFAULT-VALUE}).")
    double stage1Fraction;

    @Option(names = "--batch", description = "Sequences per micro-batch; one budget per micro-batch (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--accumulation", description = "Micro-batches per step (default ${DEFAULT-VALUE}).")
    int accumulation;

    @Option(names = "--lr", description = "Student learning rate (default ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--router-lr", description = "Router learning rate (default ${DEFAULT-VALUE}).")
    double routerLr;

    @Option(names = "--warmup", description = "Linear warm-up steps of both learning rates (default ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--ce-weight", description = "Weight of an extra next-token CE term (default ${DEFAULT-VALUE}: KD only).")
    double ceWeight;

    @Option(names = "--interpolation-draws",
            description = "Share of micro-batches trained at a random budget between two adjacent trained ones, router "
                    + "input interpolated as at deployment (default ${DEFAULT-VALUE}).")
    double interpolationDraws;

    @Option(names = "--resolve-candidates",
            description = "Each trained budget keeps the best, by distillation loss on fixed training windows, of the router's "
                    + "N most likely sub-models within the resolution tolerance of its target (default ${DEFAULT-VALUE}; 1: the most likely, "
                    + "as the paper).")
    int resolveCandidates;

    @Option(names = "--hetero-mlp", description = "Let the router choose a width per MLP layer.")
    boolean heteroMlp;

    @Option(names = "--eval-every", description = "Steps between validations (default ${DEFAULT-VALUE}).")
    int evalEvery;

    @Option(names = "--checkpoint-every", description = "Steps between resumable checkpoints (default ${DEFAULT-VALUE}).")
    int checkpointEvery;

    @picocli.CommandLine.Mixin
    TrainThreadsOption threads;

    @Option(names = "--seed", description = "Seed of data order, budget draws and router noise (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--stop-after", hidden = true, description = "Stop after this many steps (testing resume).")
    Integer stopAfter;

    /** The options' defaults: {@link ElastifyConfig#defaults}. */
    static final class Defaults extends ConfigDefaults {
        Defaults() {
            super(values(ElastifyConfig.defaults(List.of("1.0"), 0)));
        }

        static Map<String, Object> values(ElastifyConfig d) {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("--seq-len", d.batching().seqLen());
            m.put("--stage2-multiplier", d.stages().stage2Multiplier());
            m.put("--stage1-fraction", d.stages().stage1Fraction());
            m.put("--batch", d.batching().batchSize());
            m.put("--accumulation", d.batching().accumulation());
            m.put("--lr", d.rates().modelLr());
            m.put("--router-lr", d.rates().routerLr());
            m.put("--warmup", d.rates().warmupSteps());
            m.put("--ce-weight", d.objective().ceWeight());
            m.put("--interpolation-draws", d.objective().interpolationDraws());
            m.put("--resolve-candidates", d.resolving().candidates());
            m.put("--eval-every", d.cadence().evalEvery());
            m.put("--checkpoint-every", d.cadence().checkpointEvery());
            m.put("--seed", d.seed());
            return m;
        }
    }

    /** The run's settings: the options given, the record's defaults for the rest. */
    ElastifyConfig config() {
        ElastifyConfig d = ElastifyConfig.defaults(budgets, tokens);
        return d.withBatching(new Batching(seqLen, batch, accumulation))
                .withStages(new ElastifyConfig.Stages(stage1Fraction, stage2Multiplier, d.stages().stage2Probs()))
                .withRates(new ElastifyConfig.Rates(lr, routerLr, warmup))
                .withRouting(new ElastifyConfig.Routing(d.routing().width(), heteroMlp, d.routing().tauStart(),
                        d.routing().tauEnd(), d.routing().scaleStart(), d.routing().scaleEnd()))
                .withObjective(new ElastifyConfig.Objective(ceWeight, d.objective().budgetTolerance(), interpolationDraws))
                .withResolving(new ElastifyConfig.Resolving(d.resolving().tolerance(), resolveCandidates))
                .withCadence(new Cadence(evalEvery, d.cadence().evalBatches(), checkpointEvery))
                .withSeed(seed);
    }

    @Override
    public Integer call() throws Exception {
        threads.apply();
        ElastifyConfig config = config();
        if (config.totalSteps() < 1) {
            throw new UserException("--tokens " + tokens + " is less than one optimizer step (" + config.stage1TokensPerStep() + " tokens)");
        }
        Path rankFile = rankings != null ? rankings : teacher.resolve(RankingsJson.FILE);
        if (!Files.isRegularFile(rankFile)) {
            throw new UserException(rankFile + " not found: rank the teacher first with 'nestlm importance --model " + teacher
                    + " --corpus …', or pass --rankings FILE");
        }
        Path cache = CacheDir.resolve(cacheDir);
        Communicator comm = World.communicator();
        comm.waitForRoot();   // rank 0 first holds --out and builds the token caches
        // --out is this process's (rank 0's in an MPI job) until the elastic checkpoint is complete: a second elastify
        // on it fails at once
        try (RunDirectory owned = comm.isRoot() ? RunDirectory.open(out) : null;
             Checkpoint ckpt = Checkpoint.open(teacher); NDManager manager = NDManager.newBaseManager()) {
            Rankings r = RankingsJson.read(rankFile).validate(ckpt.architecture(), rankFile.toString());
            Path tokFile = tokenizer != null ? tokenizer : ckpt.tokenizer().orElseThrow(() ->
                    new UserException(teacher + " has no tokenizer.json; pass --tokenizer FILE"));
            // the teacher's function does not change under the permutation, so teacher and student share the permuted weights
            Map<String, float[]> weights = new java.util.LinkedHashMap<>();
            for (String name : ckpt.architecture().tensorShapes().keySet()) {
                weights.put(name, ckpt.floats(name));
            }
            if (!r.isWidthIdentity()) {
                weights = Permutation.apply(weights, ckpt.architecture(), r);
            }
            List<Integer> removal = new ArrayList<>();
            Arrays.stream(r.depth().removalOrder()).forEach(removal::add);
            if (removal.isEmpty()) {
                System.out.println("note      the rankings hold no depth order: depth is not elastic in this run");
            }
            Corpus c = Corpora.open(corpus, cache);
            final Map<String, float[]> permuted = weights;
            try (NemotronH t = NemotronH.fromTensors(ckpt.architecture(), manager, permuted::get);
                 TextTokenizer tok = TextTokenizer.load(tokFile);
                 TokenIds trainIds = TokenCache.ids(cache, c, Split.TRAIN, tok, true);
                 TokenIds valIds = TokenCache.ids(cache, c, Split.VALIDATION, tok, true)) {
                comm.releaseOthers();
                long full = ckpt.architecture().parameterCount();
                System.out.printf(Locale.ROOT, "teacher   %s: %s parameters, %d layers (%d Mamba, %d attention, %d MLP)%n", teacher,
                        CliSupport.count(full), ckpt.architecture().layers().size(), ckpt.architecture().countLayers(LayerKind.MAMBA),
                        ckpt.architecture().countLayers(LayerKind.ATTENTION), ckpt.architecture().countLayers(LayerKind.MLP));
                System.out.printf(Locale.ROOT, "schedule  stage 1: %d steps at %d tokens; stage 2: %d steps at %d tokens; budgets %s%n",
                        config.stage1Steps(), seqLen, config.stage2Steps(), config.stage2SeqLen(), budgets);
                long t0 = System.nanoTime();
                Elastify.Result result = new Elastify(out, config, TokenSource.of(trainIds), TokenSource.of(valIds), System.out)
                        .withCommunicator(comm)
                        .run(t, removal, resume, stopAfter != null ? stopAfter : 0);
                if (comm.isRoot()) {
                    Checkpoint.copyTokenizerFile(tokFile, out);
                    RankingsJson.write(out.resolve(RankingsJson.FILE), r.isWidthIdentity() ? r : r.permuted());
                }
                System.out.printf(Locale.ROOT, "done: %d steps in %.1f s%n", result.steps(), (System.nanoTime() - t0) / 1e9);
                System.out.println("  budget      target        resolved      deviation   held-out loss   cut, untrained");
                for (TrainedBudget b : result.budgets()) {
                    System.out.printf(Locale.ROOT, "  %-9s %,12d  %,12d   %+7.2f %%   %13.4f   %14.4f%n", b.budget(), b.target(),
                            b.parameters(), 100 * b.deviation(), result.valLoss().getOrDefault(b.budget(), Double.NaN),
                            result.untrainedCutLoss().getOrDefault(b.budget(), Double.NaN));
                }
                System.out.println("wrote " + out + ": config.json, model.safetensors, elastic.json, rankings.json, log.jsonl, kd.png, val.png");
            }
        }
        return 0;
    }
}
