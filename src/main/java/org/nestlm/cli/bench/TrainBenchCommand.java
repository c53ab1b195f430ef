package org.nestlm.cli.bench;

import ai.djl.ndarray.NDArray;
import org.nestlm.model.Tensors;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import org.nestlm.sizes.Budget;
import org.nestlm.elastic.Distillation;
import org.nestlm.sizes.ElasticSpace;
import org.nestlm.elastic.ElastifyConfig;
import org.nestlm.elastic.Router;
import org.nestlm.model.LayerKind;
import org.nestlm.model.Param;
import org.nestlm.dist.Communicator;
import org.nestlm.dist.MpiRun;
import org.nestlm.dist.World;
import org.nestlm.model.Architecture;
import org.nestlm.model.ConfigJson;
import org.nestlm.model.ModelConfig;
import org.nestlm.model.NemotronH;
import org.nestlm.model.Presets;
import org.nestlm.train.AdamW;
import org.nestlm.train.Batching;
import org.nestlm.train.OptimizerConfig;
import org.nestlm.train.GradientAllReduce;
import org.nestlm.train.Steps;
import org.nestlm.train.WindowSampler;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * {@code nestlm bench train}: tokens/s of a full training step on DJL, with the step definitions of the eager
 * PyTorch reference ({@code torch_bench.py}, kept outside this repository), so the two compare side by side:
 * <ul>
 *   <li><b>pretrain</b>: forward, cross-entropy over the full vocabulary, backward, AdamW step (with the global
 *       gradient-norm clip that pretraining applies) — the very code {@code nestlm pretrain} runs
 *       ({@link Steps#crossEntropy}, {@link AdamW#step});</li>
 *   <li><b>kd</b>: frozen teacher forward without autograd + student forward, forward KL(teacher ‖ student) over the
 *       vocabulary, backward, AdamW ({@link Steps#distillation});</li>
 *   <li><b>elastic</b>: the inner step of {@code nestlm elastify} for a budget below the full model: frozen teacher
 *       forward, a router sample for the budget (Gumbel noise, projected onto the budget), the student's forward
 *       under the sample's masks, KD plus the budget loss, backward through student and router, both AdamW
 *       steps — the very micro-batch {@code Elastify} runs ({@link Distillation#elasticStep}) with its default
 *       settings; budgets 0.75 and 0.5 alternate.</li>
 * </ul>
 * Random ids (four batches, cycled), warm-up steps first, then the median (and range) of the timed steps. Each
 * step's matmul FLOPs ({@link TrainFlops}) over its median time give the achieved GFLOP/s, reported against the
 * libtorch matmul rate the command measures first at the same thread count ({@link MatmulPeak}). With
 * {@code --profile DIR} three more steps of each kind run under libtorch's profiler and the time of their gradient
 * half is broken down by operation class ({@link OpProfile}); the optimizer is timed by wall clock in the timed steps. With
 * {@code --ranks N} the command runs again as an N-rank MPI job: each rank computes batch/N sequences, the gradient
 * all-reduce ({@link GradientAllReduce}) and the wait for the slowest rank are timed apart, the matmul peak is the
 * sum of the ranks' rates measured at once, and rank 0 reports.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Measure tokens/s of a full training step: pretrain (forward, full-vocabulary cross-entropy, "
                + "backward, AdamW) and kd (frozen teacher forward + student forward, forward KL, backward, AdamW), "
                + "on random ids, median of the timed steps after warm-up; elastic is elastify's inner step "
                + "(router sample, masked student, KD + budget loss). Reports tokens/s, matmul GFLOP/s and the "
                + "fraction of libtorch's 2048x2048 fp32 matmul rate measured first at the same threads.",
                "Step definitions and defaults match the eager-PyTorch reference torch_bench.py "
                        + "(small: seq 256 x batch 8, 3 warm-up, 10 timed; tiny: seq 128 x batch 8, 5 warm-up, 30 timed)."},
        footer = {"", "Examples:", "  nestlm bench train", "  nestlm bench train --preset tiny --only pretrain --json",
                "  nestlm bench train --preset small --only pretrain,kd,elastic --threads 2 --profile /tmp/prof",
                "  nestlm bench train --config my-model/config.json --batch 4 --seq 512 --steps 5 --threads 2"})
public final class TrainBenchCommand implements Callable<Integer> {

    @ArgGroup(exclusive = true)
    Source source;

    static final class Source {
        @Option(names = "--preset", description = "Named size (default: small, the reference bench-small).")
        String preset;
        @Option(names = "--config", description = "A Nemotron-H config.json (a file or a checkpoint directory).")
        Path config;
    }

    @Option(names = "--batch", defaultValue = "8", description = "Sequences per step (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seq", description = "Tokens per sequence (default 128 for tiny, else 256).")
    Integer seq;

    @Option(names = "--steps", description = "Timed steps; the median is reported (default 30 for tiny, else 10).")
    Integer steps;

    @Option(names = "--warmup", description = "Untimed warm-up steps (default 5 for tiny, else 3).")
    Integer warmup;

    @Option(names = "--threads", defaultValue = "0", description = "libtorch intra-op threads; 0 = one per processor (default).")
    int threads;

    @Option(names = "--only", split = ",", defaultValue = "pretrain,kd,elastic",
            description = "Steps to measure, comma-separated: pretrain, kd, elastic (default: ${DEFAULT-VALUE}).")
    List<String> only;

    @Option(names = "--profile", paramLabel = "DIR", description = "Also profile three steps of each kind with "
            + "libtorch's profiler: traces in DIR, time by operation class printed.")
    Path profile;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the weights and the random ids (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Option(names = "--ranks", defaultValue = "1", description = "Data-parallel ranks: runs as 'mpirun -np N' on this host, "
            + "each rank computing batch/N sequences; the gradient all-reduce is timed apart (default ${DEFAULT-VALUE}).")
    int ranks;

    /** One training step in two halves: the gradients (forward, loss, backward; returns the loss) and the update. */
    interface Step {
        double gradients();

        void update();
    }

    /** Budgets of the elastic step, taken in turn. */
    static final List<String> ELASTIC_BUDGETS = List.of("0.75", "0.5");

    /**
     * One measured step kind; {@code flopsPerStep} counts its matmuls ({@link TrainFlops}). With several ranks also,
     * per step, the wait for the slowest rank (a barrier before the reduction) and the gradient all-reduce itself
     * (copies and {@code MPI_Allreduce}).
     */
    record Measurement(String name, int tokensPerStep, double flopsPerStep, double[] seconds, double[] cpuSeconds,
                       double firstLoss, double lastLoss, double[] waitSeconds, double[] reduceSeconds,
                       double[] updateSeconds, Map<String, Double> profile) {
        /**
         * Mean process CPU seconds per timed step (all threads; the clock ticks in milliseconds, so the mean, not
         * the median): on shared cores less disturbed than wall time.
         */
        double cpuSecondsPerStep() {
            return Arrays.stream(cpuSeconds).sum() / cpuSeconds.length;
        }

        double gflops() {
            return flopsPerStep / medianSeconds() / 1e9;
        }

        double medianSeconds() {
            return median(seconds);
        }

        double tokensPerSecond() {
            return tokensPerStep / medianSeconds();
        }

        static double median(double[] x) {
            double[] s = x.clone();
            Arrays.sort(s);
            int n = s.length;
            return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        }

        double minTokensPerSecond() {
            return tokensPerStep / Arrays.stream(seconds).max().orElseThrow();
        }

        double maxTokensPerSecond() {
            return tokensPerStep / Arrays.stream(seconds).min().orElseThrow();
        }
    }

    @Override
    public Integer call() throws Exception {
        Communicator comm = World.communicator();
        if (ranks < 1) {
            throw new IllegalArgumentException("--ranks must be at least 1");
        }
        if (ranks > 1 && comm.size() == 1 && !World.launchedByMpi(System.getenv())) {
            return MpiRun.relaunch(ranks, "--ranks");
        }
        if (comm.size() > 1 && ranks > 1 && ranks != comm.size()) {
            throw new IllegalArgumentException("--ranks " + ranks + " but the MPI job has " + comm.size() + " ranks");
        }
        String presetName = source == null || (source.preset == null && source.config == null) ? "small" : source.preset;
        ModelConfig config;
        String name;
        if (presetName != null) {
            config = Presets.get(presetName);
            name = presetName;
        } else {
            Path file = java.nio.file.Files.isDirectory(source.config) ? source.config.resolve(ConfigJson.FILE_NAME)
                    : source.config;
            config = ConfigJson.read(file);
            name = file.toString();
        }
        boolean tiny = "tiny".equals(presetName);
        int seqLen = seq != null ? seq : tiny ? 128 : 256;
        int timed = steps != null ? steps : tiny ? 30 : 10;
        int warm = warmup != null ? warmup : tiny ? 5 : 3;
        if (batch < 1 || seqLen < 2 || timed < 1 || warm < 0) {
            throw new IllegalArgumentException("--batch and --steps must be at least 1, --seq at least 2, --warmup at least 0");
        }
        if (batch % comm.size() != 0) {
            throw new IllegalArgumentException("--batch " + batch + " is not a multiple of the " + comm.size() + " ranks");
        }
        int local = batch / comm.size();   // sequences per rank and step
        for (String o : only) {
            if (!o.equals("pretrain") && !o.equals("kd") && !o.equals("elastic")) {
                throw new IllegalArgumentException("--only: unknown step '" + o + "' (pretrain, kd, elastic)");
            }
        }
        if (threads > 0) {
            // read by DJL when the engine starts; set directly as well in case it has started already
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        }
        Architecture arch = Architecture.fromConfig(config);
        if (profile != null) {
            java.nio.file.Files.createDirectories(profile);
        }
        List<Measurement> results = new ArrayList<>();
        double peak;
        try (NDManager root = NDManager.newBaseManager()) {             // starts the engine
            if (threads > 0) {
                JniUtils.setNumThreads(threads);
            }
            // with several ranks all measure at once and their rates add up: the peak of the job's processors
            peak = comm.sum(MatmulPeak.gflops(root));
            int vocab = config.vocabSize();
            Random r = new Random(seed + 100 + comm.rank());
            List<long[]> data = new ArrayList<>();                     // four batches of seqLen + 1 ids, cycled
            for (int i = 0; i < 4; i++) {
                data.add(r.longs((long) local * (seqLen + 1), 0, vocab).toArray());
            }
            int tokens = batch * seqLen;
            double forward = TrainFlops.perToken(arch, seqLen).forward() * tokens;
            if (only.contains("pretrain")) {
                try (NemotronH model = NemotronH.initialize(arch, seed + 1, root);
                     AdamW opt = new AdamW(new ArrayList<>(model.parameters().values()), root, 0.9, 0.95, 0.1);
                     GradientAllReduce reducer = new GradientAllReduce(new ArrayList<>(model.parameters().values()), comm)) {
                    int[] it = {0};
                    results.add(measure("pretrain", tokens, 3 * forward, warm, timed, seqLen, vocab, comm, reducer, new Step() {
                        public double gradients() {
                            long[] d = data.get(it[0]++ % data.size());
                            return Steps.crossEntropy(model, m -> batchOf(m, d, local, seqLen), comm.size());
                        }

                        public void update() {
                            opt.step(3e-4, 1.0);
                        }
                    }));
                }
            }
            if (only.contains("kd")) {
                try (NemotronH teacher = NemotronH.initialize(arch, seed + 2, root);
                     NemotronH student = NemotronH.initialize(arch, seed + 3, root);
                     AdamW opt = new AdamW(new ArrayList<>(student.parameters().values()), root, 0.9, 0.95, 0.1);
                     GradientAllReduce reducer = new GradientAllReduce(new ArrayList<>(student.parameters().values()), comm)) {
                    int[] it = {0};
                    results.add(measure("kd", tokens, 4 * forward, warm, timed, seqLen, vocab, comm, reducer, new Step() {
                        public double gradients() {
                            long[] d = data.get(it[0]++ % data.size());
                            return Steps.distillation(teacher, student, m -> batchOf(m, d, local, seqLen).inputs(), comm.size());
                        }

                        public void update() {
                            opt.step(3e-4, 1.0);
                        }
                    }));
                }
            }
            if (only.contains("elastic")) {
                results.add(measureElastic(arch, root, data, tokens, 4 * forward, warm, timed, seqLen, local, comm));
            }
        }
        int usedThreads = JniUtils.getNumThreads();
        print(name, arch.parameterCount(), seqLen, usedThreads, warm, peak, comm, results);
        return 0;
    }

    /**
     * The elastic step: elastify's inner step for one budget below the full model, with elastify's defaults. With
     * several ranks every rank draws the same budget and router sample (the noise is seeded by the step alone) on
     * its own {@code local} sequences, and student and router gradients are summed over ranks, as in elastify.
     */
    private Measurement measureElastic(Architecture arch, NDManager root, List<long[]> data, int tokens, double flops,
                                       int warm, int timed, int seqLen, int local, Communicator comm) throws java.io.IOException {
        // elastify's defaults, with this rank's share of the global batch as one of comm.size() micro-batches
        ElastifyConfig defaults = ElastifyConfig.defaults(ELASTIC_BUDGETS, 1)
                .withBatching(new Batching(seqLen, local, comm.size()));
        List<Integer> removal = new ArrayList<>();                     // depth order: last non-attention layer first
        for (int i = arch.layers().size() - 1; i >= 0; i--) {
            if (arch.layers().get(i).kind() != LayerKind.ATTENTION) {
                removal.add(i);
            }
        }
        ElasticSpace space = ElasticSpace.defaults(arch, removal, defaults.routing().heterogeneousMlp());
        long full = arch.parameterCount();
        long[] targets = ELASTIC_BUDGETS.stream().mapToLong(b -> Budget.parse(b).target(full)).toArray();
        OptimizerConfig o = defaults.optimizer();
        try (NemotronH teacher = NemotronH.initialize(arch, seed + 2, root);
             NemotronH student = NemotronH.initialize(arch, seed + 3, root);
             Router router = new Router(space, targets.length, defaults.routing().width(), root, seed);
             AdamW modelOpt = new AdamW(new ArrayList<>(student.parameters().values()), root, o);
             AdamW routerOpt = new AdamW(router.params(), root, o.withWeightDecay(0.0));
             GradientAllReduce reducer = new GradientAllReduce(trained(student, router), comm)) {
            Distillation.Models models = new Distillation.Models(teacher, student, router, space);
            int[] it = {0};
            return measure("elastic", tokens, flops, warm, timed, seqLen, arch.config().vocabSize(), comm, reducer, new Step() {
                public double gradients() {
                    int i = it[0]++;
                    long[] d = data.get(i % data.size());
                    int b = i % targets.length;
                    SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + i);
                    try (NDManager scope = NDManager.newBaseManager()) {
                        // elastify's micro-batch at the start of its schedule (τ and logit scale at their first values)
                        WindowSampler.Batch batch = batchOf(scope, d, local, seqLen);
                        return Distillation.elasticStep(scope, models, batch, Distillation.teacherLogits(models, batch), router.oneHot(b),
                                targets[b], false, defaults.routing().tauStart(), defaults.routing().scaleStart(), rng, 0,
                                defaults.batching().accumulation(), defaults).kd();
                    }
                }

                public void update() {
                    modelOpt.step(defaults.rates().modelLr(), o.clipNorm());
                    routerOpt.step(defaults.rates().routerLr(), 0);
                }
            });
        }
    }

    /** The student's parameters, then the router's: what the elastic step trains and reduces. */
    private static List<Param> trained(NemotronH student, Router router) {
        List<Param> all = new ArrayList<>(student.parameters().values());
        all.addAll(router.params());
        return all;
    }

    /** Inputs ids[:, :L] and targets ids[:, 1:] of one [batch, L+1] block. */
    private static WindowSampler.Batch batchOf(NDManager m, long[] d, int batch, int seqLen) {
        NDArray all = Tensors.of(m, d, new Shape(batch, seqLen + 1));
        return new WindowSampler.Batch(all.get(":, :" + seqLen), all.get(":, 1:"));
    }

    /**
     * Warm-up, then timed steps of: the gradients (forward and backward of this rank's share, returning its loss),
     * with several ranks a barrier and the gradient all-reduce (each timed on its own), then the update; with
     * {@code --profile} then {@link #PROFILED_STEPS} profiled steps.
     */
    private Measurement measure(String name, int tokens, double flops, int warm, int timed, long seqLen, long vocab,
                                Communicator comm, GradientAllReduce reducer, Step step) throws java.io.IOException {
        double first = Double.NaN, last = Double.NaN;
        double[] seconds = new double[timed], cpu = new double[timed], waits = new double[timed], reduces = new double[timed];
        double[] updates = new double[timed];
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        for (int i = -warm; i < timed; i++) {
            long c0 = os.getProcessCpuTime(), t0 = System.nanoTime();
            double loss = step.gradients();                          // getFloat() of the loss synchronises
            long t1 = System.nanoTime();
            comm.barrier();
            long t2 = System.nanoTime();
            reducer.sum();
            long t3 = System.nanoTime();
            step.update();
            long u = System.nanoTime();
            loss = comm.sum(loss) / comm.size();                    // the mean over the global batch
            long t4 = System.nanoTime();
            if (Double.isNaN(first)) {
                first = loss;
            }
            last = loss;
            if (i >= 0) {
                seconds[i] = (t4 - t0) / 1e9;
                cpu[i] = (os.getProcessCpuTime() - c0) / 1e9;
                waits[i] = (t2 - t1) / 1e9;
                reduces[i] = (t3 - t2) / 1e9;
                updates[i] = (u - t3) / 1e9;
            }
        }
        Map<String, Double> classes = profile == null ? null
                : profileSteps(name, step, seqLen, vocab, comm, reducer, Measurement.median(updates));
        return new Measurement(name, tokens, flops, seconds, cpu, first, last, waits, reduces, updates, classes);
    }

    static final int PROFILED_STEPS = 3;

    /**
     * Three more steps, the gradient half of each under libtorch's profiler (one trace file per step in the
     * {@code --profile} directory, written by rank 0): seconds per step by operation class and the JNI and Java time
     * around the operators; the optimizer's share is {@code optimizer}, its median wall-clock time in the timed
     * steps. (Timed right after a profiled pass, an update of many small libtorch operations took several times
     * as long as in the timed steps.)
     */
    private Map<String, Double> profileSteps(String name, Step step, long seqLen, long vocab, Communicator comm,
                                             GradientAllReduce reducer, double optimizer) throws java.io.IOException {
        double gradWall = 0;
        Map<String, Double> us = new java.util.LinkedHashMap<>();
        for (int i = 0; i < PROFILED_STEPS; i++) {
            Path raw = java.nio.file.Files.createTempFile("nestlm-trace", ".json");   // libtorch writes it in place
            try {
                JniUtils.startProfile(false, true, false);
                long t0 = System.nanoTime();
                try {
                    step.gradients();
                    gradWall += (System.nanoTime() - t0) / 1e9;
                } finally {
                    JniUtils.stopProfile(raw.toString());
                }
                OpProfile.classify(raw, seqLen, vocab).forEach((k, v) -> us.merge(k, v, Double::sum));
                if (comm.isRoot()) {
                    org.nestlm.io.AtomicFiles.copy(raw, profile.resolve(name + "-trace-" + i + ".json"));
                }
            } finally {
                java.nio.file.Files.deleteIfExists(raw);
            }
            comm.barrier();
            reducer.sum();
            step.update();
        }
        Map<String, Double> out = new java.util.LinkedHashMap<>();
        double busy = us.remove("busy");
        us.forEach((k, v) -> out.put(k, v / 1e6 / PROFILED_STEPS));
        out.put("JNI and Java (outside operators)", Math.max(0, gradWall - busy / 1e6) / PROFILED_STEPS);
        out.put("optimizer (AdamW, timed steps)", optimizer);
        return out;
    }

    /** Rank 0's report (every rank measured the same steps; the losses are already means over ranks). */
    private void print(String name, long params, int seqLen, int usedThreads, int warm, double peak, Communicator comm,
                       List<Measurement> results) {
        if (!comm.isRoot()) {
            return;
        }
        int size = comm.size();
        String engine = "DJL " + ai.djl.engine.Engine.getDjlVersion() + " / libtorch " + ai.djl.engine.Engine.getInstance().getVersion();
        String processor = MatmulPeak.processor();
        if (json) {
            var o = ConfigJson.MAPPER.createObjectNode();
            o.put("benchmark", "nestlm bench train").put("config", name).put("parameters", params)
                    .put("batch", batch).put("seq_len", seqLen).put("tokens_per_step", batch * seqLen).put("ranks", size)
                    .put("threads", usedThreads).put("warmup", warm).put("engine", engine).put("processor", processor)
                    .put("matmul_peak_gflops", peak);
            var res = o.putObject("results");
            for (Measurement m : results) {
                var e = res.putObject(m.name());
                e.put("tokens_per_s_median", m.tokensPerSecond()).put("tokens_per_s_min", m.minTokensPerSecond())
                        .put("tokens_per_s_max", m.maxTokensPerSecond()).put("median_s", m.medianSeconds())
                        .put("cpu_s_per_step", m.cpuSecondsPerStep()).put("optimizer_median_s", Measurement.median(m.updateSeconds()))
                        .put("matmul_gflop_per_step", m.flopsPerStep() / 1e9).put("gflops", m.gflops())
                        .put("fraction_of_peak", m.gflops() / peak).put("repeats", m.seconds().length);
                var s = e.putArray("seconds");
                for (double x : m.seconds()) {
                    s.add(Math.round(x * 1e6) / 1e6);
                }
                e.putArray("loss_first_last").add(m.firstLoss()).add(m.lastLoss());
                if (size > 1) {
                    e.put("wait_median_s", Measurement.median(m.waitSeconds()))
                            .put("allreduce_median_s", Measurement.median(m.reduceSeconds()));
                }
                if (m.profile() != null) {
                    var p = e.putObject("profile_seconds_per_step");
                    m.profile().forEach(p::put);
                }
            }
            System.out.println(o.toPrettyString());
            return;
        }
        System.out.printf(Locale.ROOT, "bench train %s: %,d parameters, batch %d x seq %d = %d tokens/step, %s%d threads, %s%n",
                name, params, batch, seqLen, batch * seqLen, size > 1 ? size + " ranks (MPI) x " : "", usedThreads, engine);
        System.out.printf(Locale.ROOT, "  processor %s; libtorch fp32 matmul %dx%d: %.1f GFLOP/s (best of 5%s)%n", processor,
                MatmulPeak.SIZE, MatmulPeak.SIZE, peak, size > 1 ? ", summed over the " + size + " ranks running at once" : "");
        for (Measurement m : results) {
            System.out.printf(Locale.ROOT, "  %-9s median %.4f s/step (CPU %.4f s; optimizer %.4f s)  %10.1f tok/s  [%.1f .. %.1f]  "
                            + "%6.1f GFLOP/s = %4.1f %% of peak  (%d timed after %d warm-up; loss %.3f -> %.3f)%n", m.name(), m.medianSeconds(),
                    m.cpuSecondsPerStep(), Measurement.median(m.updateSeconds()), m.tokensPerSecond(),
                    m.minTokensPerSecond(), m.maxTokensPerSecond(), m.gflops(), 100 * m.gflops() / peak,
                    m.seconds().length, warm, m.firstLoss(), m.lastLoss());
            if (size > 1) {
                double wait = Measurement.median(m.waitSeconds()), reduce = Measurement.median(m.reduceSeconds());
                System.out.printf(Locale.ROOT, "  %-9s all-reduce median %.4f s/step (%.1f %% of a step), waiting for the "
                        + "slowest rank %.4f s%n", "", reduce, 100 * reduce / m.medianSeconds(), wait);
            }
        }
        for (Measurement m : results) {
            if (m.profile() == null) {
                continue;
            }
            double total = m.profile().values().stream().mapToDouble(Double::doubleValue).sum();
            System.out.printf(Locale.ROOT, "  profile of %s (%d steps, s/step by operation class; traces in %s):%n",
                    m.name(), PROFILED_STEPS, profile);
            m.profile().forEach((k, v) -> System.out.printf(Locale.ROOT, "    %-36s %8.4f  %5.1f %%%n", k, v, 100 * v / total));
            System.out.printf(Locale.ROOT, "    %-36s %8.4f%n", "total", total);
        }
    }
}
