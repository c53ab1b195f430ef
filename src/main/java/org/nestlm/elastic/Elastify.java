package org.nestlm.elastic;

import org.nestlm.sizes.Budget;
import org.nestlm.sizes.ElasticJson;
import org.nestlm.sizes.ElasticSpace;
import org.nestlm.sizes.Subnet;
import org.nestlm.sizes.TrainedBudget;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nestlm.dist.Communicator;
import org.nestlm.dist.SingleProcess;
import org.nestlm.io.DType;
import org.nestlm.io.SafetensorsWriter;
import org.nestlm.io.TensorData;
import org.nestlm.io.TensorStore;
import org.nestlm.model.Architecture;
import org.nestlm.model.Masks;
import org.nestlm.model.NemotronH;
import org.nestlm.model.Param;
import org.nestlm.train.AdamW;
import org.nestlm.train.Batching;
import org.nestlm.train.Charts;
import org.nestlm.train.GradientAllReduce;
import org.nestlm.train.OptimizerConfig;
import org.nestlm.train.TokenSource;
import org.nestlm.train.TrainLog;
import org.nestlm.train.TrainingRun;
import org.nestlm.train.ValidationLoss;
import org.nestlm.train.WindowSampler;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Elastic distillation (docs/METHOD.md §7): one run trains a student for several parameter budgets at
 * once, with a frozen teacher and a router. With searched routing (the default, §6.6) each trained budget's sub-model
 * is first found on the teacher ({@link SubnetSearch}) and the router fitted to the choices and frozen; with learned
 * routing (the paper's) the router trains with the student. Per optimizer step and micro-batch:
 * <ol>
 *   <li>draw a micro-batch and a budget (stage 1 uniform; stage 2 at a longer context, largest first 0.5/0.3/0.2);</li>
 *   <li>teacher forward without autograd → teacher logits;</li>
 *   <li>for a budget below 100 %: its sub-model — searched: the fitted router's resolution (hard masks); learned: a
 *       router sample (Gumbel-softmax at τ(t), logit scale s(t), straight-through hard masks); the 100 % budget is the
 *       unmasked full model;</li>
 *   <li>student forward under those masks; loss = KL(teacher ‖ student) (+ optional CE), learned: + |E[P]/P̂ − 1|;</li>
 *   <li>below 100 %, the full model is distilled on the same windows too (weight {@code fullWeight}, §7.3);</li>
 *   <li>backward; AdamW on the student (model LR) and, learned, on the router (router LR).</li>
 * </ol>
 * The micro-batch is {@link Distillation#elasticStep}; the loop, resume, checkpoints and the log are
 * {@link TrainingRun}'s. The student starts as a copy of the (permuted) teacher. Everything a resume needs is in
 * {@code train_state/}; data order, budget draws and Gumbel noise depend only on (seed, step, micro).
 */
public final class Elastify {

    private final Path out;
    private final ElastifyConfig config;
    private final TokenSource train;
    private final TokenSource validation;
    private final PrintStream console;
    private java.util.function.IntConsumer stepListener = s -> { };
    private Communicator comm = SingleProcess.INSTANCE;

    public Elastify(Path out, ElastifyConfig config, TokenSource train, TokenSource validation, PrintStream console) {
        this.out = out;
        this.config = config;
        this.train = train;
        this.validation = validation;
        this.console = console;
    }

    public Elastify onStep(java.util.function.IntConsumer listener) {
        this.stepListener = listener;
        return this;
    }

    /**
     * Runs as one rank of {@code comm}'s data-parallel job: rank r of N takes micro-batches r, r + N, … of each step
     * (their budget draws and Gumbel noise come from the global micro-batch index), the teacher runs on every rank,
     * the student's and the router's gradients are summed in one all-reduce and the step's statistics in another, so
     * every rank applies the same updates and validates the same weights; rank 0 alone writes.
     */
    public Elastify withCommunicator(Communicator comm) {
        this.comm = comm;
        return this;
    }

    /**
     * The resolved budgets, each one's held-out loss at the end, and the held-out loss of the same sub-models
     * cut from the (permuted) teacher with no training — the baseline the elastic run must beat.
     */
    public record Result(int steps, List<TrainedBudget> budgets, Map<String, Double> valLoss, Map<String, Double> untrainedCutLoss) {
    }

    /** The settings as the training loop sees them. */
    TrainingRun.Plan plan() {
        return new TrainingRun.Plan("elastify", config, config.batching().accumulation(), config.totalSteps(),
                config::tokensAfter, config.cadence(), Math.max(1, config.cadence().evalEvery() / 2),
                "lower --lr or --router-lr");
    }

    /**
     * Runs (or, with {@code resume}, continues) elastic distillation of {@code teacher}, whose weights must
     * already be in importance order; {@code removalOrder} is its depth ranking (least important first).
     */
    public Result run(NemotronH teacher, List<Integer> removalOrder, boolean resume, int stopAfter) throws IOException {
        Architecture arch = teacher.architecture();
        long fullParams = arch.parameterCount();
        List<Budget> budgets = new ArrayList<>();
        for (String b : config.budgets()) {
            budgets.add(Budget.parse(b));
        }
        budgets.sort(Comparator.comparingDouble((Budget b) -> b.fractionOf(fullParams)).reversed());
        ElasticSpace space = ElasticSpace.defaults(arch, removalOrder, config.routing().heterogeneousMlp());
        try (TrainingRun run = TrainingRun.open(out, plan(), resume, stopAfter, comm, console);
             NDManager root = NDManager.newBaseManager()) {
            run.onStep(stepListener);
            Path state = run.stateDir();
            Map<String, float[]> weights = run.resumed() ? TensorStore.readFloats(state.resolve("model.safetensors"))
                    : teacher.toFloatArrays();
            OptimizerConfig o = config.optimizer();
            try (NemotronH student = NemotronH.fromTensors(arch, root, weights::get);
                 Router router = new Router(space, budgets.size(), config.routing().width(), root, searched() ? 0 : config.seed());
                 AdamW modelOpt = new AdamW(new ArrayList<>(student.parameters().values()), root, o);
                 AdamW routerOpt = new AdamW(router.params(), root, o.withWeightDecay(0.0))) {
                if (run.resumed()) {
                    Map<String, float[]> opt = TensorStore.readFloats(state.resolve("optimizer.safetensors"));
                    modelOpt.load(prefixed(opt, "model/"), run.startStep());
                    routerOpt.load(prefixed(opt, "router/"), run.startStep());
                    router.load(TensorStore.readFloats(state.resolve("router.safetensors")));
                } else if (searched()) {
                    router.fit(search(teacher, space, budgets, fullParams));
                }
                run.requireSameOnEveryRank(student, train, validation);
                List<Param> trained = new ArrayList<>(student.parameters().values());
                if (!searched()) {
                    trained.addAll(router.params());   // searched: the router is fitted once and frozen
                }
                try (GradientAllReduce reducer = new GradientAllReduce(trained, comm)) {
                    Training task = new Training(run, new Distillation.Models(teacher, student, router, space), budgets, fullParams,
                            modelOpt, routerOpt, reducer);
                    run.loop(task);
                    Map<String, Double> val = task.lastVal.isEmpty() ? task.validate() : task.lastVal;
                    List<TrainedBudget> resolved = task.resolveFinal();
                    if (comm.isRoot()) {
                        writeElasticCheckpoint(student, router, space, budgets, fullParams, resolved);
                    }
                    return new Result(run.endStep(), resolved, val, task.heldOutLoss(teacher, resolved));
                }
            }
        }
    }

    private boolean searched() {
        return config.routing().mode() == ElastifyConfig.Routing.Mode.SEARCHED;
    }

    /**
     * The searched routing's choices ({@link SubnetSearch}), one per budget, largest first; the full budget's is the
     * full model. Scored on the first windows of the training data, the windows {@link Training#resolveFinal} uses.
     */
    private List<ElasticSpace.Choice> search(NemotronH teacher, ElasticSpace space, List<Budget> budgets, long fullParams) {
        List<ElasticSpace.Choice> anchors = new ArrayList<>();
        try (NDManager scope = NDManager.newBaseManager()) {
            SubnetSearch search = new SubnetSearch(teacher, space, WindowSampler.validation(scope, train,
                    config.batching().seqLen(), config.batching().batchSize(), config.cadence().evalBatches()));
            for (Budget b : budgets) {
                long target = b.target(fullParams);
                if (target == fullParams) {
                    anchors.add(ElasticSpace.Choice.full(space.mlpGroups()));
                    continue;
                }
                List<SubnetSearch.Scored> ranked = search.rank(target, config.resolving().tolerance());
                SubnetSearch.Scored best = ranked.getFirst();
                if (comm.isRoot()) {
                    console.printf(Locale.ROOT, "search %s: %d sub-models within %.0f %% of %,d parameters; best %s (%,d parameters, "
                                    + "KL %.4f)%s%n", b.text(), ranked.size(), 100 * config.resolving().tolerance(), target,
                            best.subnet().describe(), best.parameters(), best.kl(), ranked.size() > 1
                                    ? String.format(Locale.ROOT, "; next %s (KL %.4f)", ranked.get(1).subnet().describe(), ranked.get(1).kl()) : "");
                }
                anchors.add(best.choice());
            }
        }
        return anchors;
    }

    /** One run's models, its step, its validation and its checkpoint files. */
    private final class Training implements TrainingRun.Task {
        final TrainingRun run;
        final Distillation.Models models;
        final NemotronH teacher, student;
        final Router router;
        final ElasticSpace space;
        final List<Budget> budgets;
        final long fullParams;
        final long[] targets;
        final AdamW modelOpt, routerOpt;
        final GradientAllReduce reducer;
        final WindowSampler shortWindows, longWindows;
        Map<String, Double> lastVal = new LinkedHashMap<>();
        String lastMessage = "";

        Training(TrainingRun run, Distillation.Models models, List<Budget> budgets, long fullParams, AdamW modelOpt,
                 AdamW routerOpt, GradientAllReduce reducer) {
            this.run = run;
            this.models = models;
            this.teacher = models.teacher();
            this.student = models.student();
            this.router = models.router();
            this.space = models.space();
            this.budgets = budgets;
            this.fullParams = fullParams;
            this.modelOpt = modelOpt;
            this.routerOpt = routerOpt;
            this.reducer = reducer;
            this.targets = budgets.stream().mapToLong(b -> b.target(fullParams)).toArray();
            Batching batching = config.batching();
            this.shortWindows = new WindowSampler(train, batching.seqLen(), batching.batchSize(), config.seed());
            this.longWindows = new WindowSampler(train, config.stage2SeqLen(), config.windowsPerMicroBatch(false), config.seed() + 1);
        }

        boolean isFull(int b) {
            return targets[b] == fullParams;
        }

        /**
         * One micro-batch's budget: a trained budget {@code budget}, or, with probability {@code interpolationDraws},
         * a point between two adjacent trained budgets ({@code between}), routed as an untrained budget is at
         * deployment.
         *
         * @param routerInput the router's input: a one-hot budget, or two adjacent budgets' weights
         * @param target      parameters of the drawn size
         */
        private record Draw(int budget, float[] routerInput, long target, boolean between) {
        }

        /** The budget of a micro-batch, from its random stream (the stream then goes on to the Gumbel noise). */
        Draw draw(SplittableRandom rng, boolean stage1) {
            int b = drawBudget(rng, stage1);
            double interpolationDraws = config.objective().interpolationDraws();
            boolean between = interpolationDraws > 0 && !isFull(b) && budgets.size() > 1
                    && rng.nextDouble() < interpolationDraws;
            if (!between) {
                return new Draw(b, router.oneHot(b), targets[b], false);
            }
            int hi = rng.nextInt(budgets.size() - 1);
            double w = rng.nextDouble();
            float[] input = new float[budgets.size()];
            input[hi] = (float) w;
            input[hi + 1] = (float) (1 - w);
            return new Draw(b, input, Math.round((w * targets[hi] + (1 - w) * targets[hi + 1])), true);
        }

        @Override
        public void step(int step, ObjectNode entry) {
            boolean stage1 = step < config.stage1Steps();
            int microBatches = config.microBatches(stage1);   // budget draws of this step
            double tau = config.tau(step), scale = config.scale(step), warm = config.warmup(step);
            StepStatistics stats = new StepStatistics(budgets.size());
            for (int micro = comm.rank(); micro < microBatches; micro += comm.size()) {
                // 1. the budget
                SplittableRandom rng = new SplittableRandom(config.seed() * 0x9E3779B97F4A7C15L + step * 1024L + micro);
                Draw d = draw(rng, stage1);
                try (NDManager scope = NDManager.newBaseManager()) {
                    // 2. the windows and the teacher's logits on them
                    WindowSampler.Batch batch = (stage1 ? shortWindows : longWindows).batch(scope, step, micro);
                    NDArray teacherLogits = Distillation.teacherLogits(models, batch);
                    // 3. the sandwich rule: the full model on the same windows too, so the shared weights stay near the teacher
                    double fullWeight = isFull(0) && !isFull(d.budget()) ? config.objective().fullWeight() : 0;
                    // 4. the student under the budget's masks, KD (+ budget loss), backward
                    Distillation.Step s = searched()
                            // fixed routing: the fitted router's choice (a trained budget's is its searched sub-model)
                            ? Distillation.fixedStep(scope, models, batch, teacherLogits, isFull(d.budget()) ? null
                                    : space.subnet(router.resolve(d.routerInput(), d.target(), config.resolving().tolerance())),
                                    fullWeight, microBatches, config)
                            : Distillation.elasticStep(scope, models, batch, teacherLogits, d.routerInput(), d.target(),
                                    isFull(d.budget()), tau, scale, rng, fullWeight, microBatches, config);
                    stats.add(s, d.budget(), d.between(), fullWeight > 0, fullParams);
                    if (!s.finite()) {
                        throw run.diverged(step, "budget " + budgets.get(d.budget()).text() + ": KD " + s.loss()
                                + ", budget loss " + s.budgetLoss());
                    }
                }
            }
            // 5. gradients and statistics over ranks, then AdamW on the student (and a learned router)
            if (comm.size() > 1) {
                reducer.sum();
                stats.sumOverRanks(comm);
            }
            double lr = config.rates().modelLr() * warm;
            TrainingRun.Update u = run.update(step, () -> {
                double norm = modelOpt.step(lr, config.optimizer().clipNorm());
                if (!searched()) {
                    routerOpt.step(config.rates().routerLr() * warm, 0);
                }
                return norm;
            }, () -> {
                modelOpt.zeroGradients();
                routerOpt.zeroGradients();
            });
            entry.put("stage", stage1 ? 1 : 2);
            if (!searched()) {
                entry.put("tau", tau).put("scale", scale);
            }
            entry.put("lr", lr);
            stats.write(entry, budgets, microBatches);
            u.logSkip(entry);
            entry.put("tokens", run.tokensAfter(step + 1));
            lastMessage = searched() ? String.format(Locale.ROOT, "stage %d kd %s", stage1 ? 1 : 2, stats.kdText(budgets))
                    : String.format(Locale.ROOT, "stage %d τ %.2f kd %s  budget loss %.3f", stage1 ? 1 : 2, tau,
                    stats.kdText(budgets), stats.meanBudgetLoss());
        }

        @Override
        public void validate(ObjectNode entry) {
            lastVal = validate();
            lastVal.forEach((k, v) -> entry.put("val_" + k, v));
        }

        @Override
        public void save(Path tmp) throws IOException {
            student.save(tmp, DType.F32);
            List<TensorData> opt = new ArrayList<>();
            for (TensorData t : modelOpt.tensors()) {
                opt.add(new TensorData("model/" + t.name(), t.shape(), t.values()));
            }
            for (TensorData t : routerOpt.tensors()) {
                opt.add(new TensorData("router/" + t.name(), t.shape(), t.values()));
            }
            SafetensorsWriter.write(tmp.resolve("optimizer.safetensors"), opt, DType.F32, Map.of());
            List<TensorData> r = new ArrayList<>();
            for (Param p : router.params()) {
                r.add(new TensorData(p.name(), p.value().getShape().getShape(), p.value().toFloatArray()));
            }
            SafetensorsWriter.write(tmp.resolve("router.safetensors"), r, DType.F32, Map.of());
        }

        @Override
        public void checkpointed(TrainLog log) throws IOException {
            plot(log);
        }

        @Override
        public String summary(ObjectNode entry) {
            return lastMessage + (entry.has("val_" + budgets.get(0).text()) ? "  val " + lastVal : "");
        }

        /**
         * Whether micro-batches draw the 100 % budget. Not when the full model is distilled beside every draw of the
         * fixed (searched) routing: it then trains on every micro-batch through that pass, and a draw of its own would
         * only take a draw from the smaller budgets (docs/METHOD.md §7.3). The learned router needs draws of every
         * budget, the full one included, to learn their sizes.
         */
        boolean drawsFull() {
            return !(searched() && isFull(0) && budgets.size() > 1 && config.objective().fullWeight() > 0);
        }

        /**
         * Stage 1: uniform; stage 2: the configured probabilities, largest budget first; over the budgets below 100 %
         * (stage 2's probabilities renormalised) when the full budget is not drawn ({@link #drawsFull}).
         */
        int drawBudget(SplittableRandom rng, boolean stage1) {
            double u = rng.nextDouble();
            int first = drawsFull() ? 0 : 1;
            int n = budgets.size();
            if (stage1) {
                return first + Math.min(n - first - 1, (int) (u * (n - first)));
            }
            List<Double> probs = config.stages().stage2Probs();
            if (first > 0) {
                double total = 0;
                for (int b = first; b < n; b++) {
                    total += probs.get(b);
                }
                u *= total;
            }
            double acc = 0;
            for (int b = first; b < n; b++) {
                acc += probs.get(b);
                if (u < acc) {
                    return b;
                }
            }
            return n - 1;
        }

        /** Held-out next-token loss of every budget's resolved sub-model (the student). */
        Map<String, Double> validate() {
            return heldOutLoss(student, resolveAll());
        }

        /**
         * Held-out loss of each budget's sub-model cut out of {@code model} (masked forward): for the student the
         * elastic result; for the frozen, permuted teacher the same-size model cut by the rankings without any
         * training (baseline (a)).
         */
        Map<String, Double> heldOutLoss(NemotronH model, List<TrainedBudget> resolved) {
            Map<String, Double> val = new LinkedHashMap<>();
            try (NDManager scope = NDManager.newBaseManager()) {
                List<WindowSampler.Batch> batches = WindowSampler.validation(scope, validation, config.batching().seqLen(),
                        config.batching().batchSize(), config.cadence().evalBatches());
                for (int b = 0; b < budgets.size(); b++) {
                    Subnet subnet = isFull(b) ? null : resolved.get(b).subnet();
                    val.put(budgets.get(b).text(), ValidationLoss.mean(batches, (m, in) -> subnet == null ? model.forward(in)
                            : model.forward(in, SubnetMasks.hard(m, space.full(), subnet))));
                }
            }
            return val;
        }

        /** Every budget's sub-model: the router's noise-free argmax (the full model for 100 %). */
        List<TrainedBudget> resolveAll() {
            List<TrainedBudget> out = new ArrayList<>();
            for (int b = 0; b < budgets.size(); b++) {
                Subnet s = isFull(b) ? Subnet.full(space.full())
                        : space.subnet(router.resolve(router.oneHot(b), targets[b], config.resolving().tolerance()));
                out.add(new TrainedBudget(budgets.get(b).text(), targets[b], s, s.parameterCount(space.full().config()), true));
            }
            return out;
        }

        /**
         * The sub-models the elastic checkpoint keeps. With searched routing, or {@code resolveCandidates} = 1, the router's most likely
         * ({@link #resolveAll}); otherwise, per trained budget below 100 %, the one of the router's most likely
         * candidates that the trained student imitates the teacher best with: lowest forward KL on the first windows
         * of the training data (fixed, the same for every seed; the validation split stays unseen).
         */
        List<TrainedBudget> resolveFinal() {
            if (config.resolving().candidates() == 1 || searched()) {
                return resolveAll();   // searched: the anchors, chosen before training
            }
            List<TrainedBudget> out = new ArrayList<>();
            try (NDManager scope = NDManager.newBaseManager()) {
                List<WindowSampler.Batch> windows = WindowSampler.validation(scope, train, config.batching().seqLen(),
                        config.batching().batchSize(), config.cadence().evalBatches());
                List<NDArray> teacherLogits = new ArrayList<>();
                for (WindowSampler.Batch w : windows) {
                    try (NDManager m = scope.newSubManager()) {   // keep the logits, not the pass
                        NDArray logits = teacher.forward(w.inputsIn(m));
                        logits.attach(scope);
                        teacherLogits.add(logits);
                    }
                }
                for (int b = 0; b < budgets.size(); b++) {
                    Subnet best = Subnet.full(space.full());
                    if (!isFull(b)) {
                        double bestKl = Double.POSITIVE_INFINITY;
                        for (ElasticSpace.Choice c : router.candidates(router.oneHot(b), targets[b], config.resolving().tolerance(),
                                config.resolving().candidates())) {
                            Subnet s = space.subnet(c);
                            double kl = 0;
                            try (NDManager m = scope.newSubManager()) {
                                Masks masks = SubnetMasks.hard(m, space.full(), s);
                                for (int w = 0; w < windows.size(); w++) {
                                    kl += Distillation.forwardKlIn(m, teacherLogits.get(w), student.forward(windows.get(w).inputsIn(m), masks));
                                }
                            }
                            if (kl < bestKl) {   // ties keep the more likely candidate
                                bestKl = kl;
                                best = s;
                            }
                        }
                    }
                    out.add(new TrainedBudget(budgets.get(b).text(), targets[b], best, best.parameterCount(space.full().config()), true));
                }
            }
            return out;
        }

        /** {@code kd.png}: KD loss of every budget per step; {@code val.png}: held-out loss per budget. */
        void plot(TrainLog log) throws IOException {
            Map<String, Charts.Series> kd = new LinkedHashMap<>(), val = new LinkedHashMap<>();
            for (Budget b : budgets) {
                List<Double> x = new ArrayList<>(), y = new ArrayList<>(), vx = new ArrayList<>(), vy = new ArrayList<>();
                for (JsonNode e : log.entries()) {
                    if (e.has("kd_" + b.text())) {
                        x.add(e.get("step").asDouble());
                        y.add(e.get("kd_" + b.text()).asDouble());
                    }
                    if (e.has("val_" + b.text())) {
                        vx.add(e.get("step").asDouble());
                        vy.add(e.get("val_" + b.text()).asDouble());
                    }
                }
                kd.put(b.text(), new Charts.Series(x, y, false));
                val.put(b.text(), new Charts.Series(vx, vy, true));
            }
            Charts.lines(out.resolve("kd.png"), "elastic distillation: KL(teacher ‖ student) per budget", "step", "KL (nats / token)", kd);
            Charts.lines(out.resolve("val.png"), "held-out loss per budget", "step", "loss (nats / token)", val);
        }
    }

    /** The elastic checkpoint: permuted student weights (F32) + elastic.json. */
    private void writeElasticCheckpoint(NemotronH student, Router router, ElasticSpace space, List<Budget> budgets,
                                        long fullParams, List<TrainedBudget> resolved) throws IOException {
        student.save(out, DType.F32);
        double[] fractions = budgets.stream().mapToDouble(b -> (double) b.target(fullParams) / fullParams).toArray();
        ElasticJson.write(out, new ElasticJson.Metadata(space, budgets.stream().map(Budget::text).toList(), fractions,
                config.routing().width(), router.state(), resolved));
    }

    private static Map<String, float[]> prefixed(Map<String, float[]> all, String prefix) {
        Map<String, float[]> out = new LinkedHashMap<>();
        all.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                out.put(k.substring(prefix.length()), v);
            }
        });
        return out;
    }

}
