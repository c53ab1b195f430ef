package org.nestlm.cli.bench;

import ai.djl.ndarray.NDArray;
import org.nestlm.model.Tensors;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import org.nestlm.dist.Communicator;
import org.nestlm.dist.MpiRun;
import org.nestlm.dist.World;
import org.nestlm.model.Architecture;
import org.nestlm.model.ConfigJson;
import org.nestlm.model.ModelConfig;
import org.nestlm.model.NemotronH;
import org.nestlm.model.Presets;
import org.nestlm.train.AdamW;
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
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.function.DoubleSupplier;

/**
 * {@code nestlm bench train}: tokens/s of a full training step on DJL, with the step definitions of the eager
 * PyTorch reference ({@code torch_bench.py}, kept outside this repository), so the two compare side by side:
 * <ul>
 *   <li><b>pretrain</b>: forward, cross-entropy over the full vocabulary, backward, AdamW step (with the global
 *       gradient-norm clip that pretraining applies) — the very code {@code nestlm pretrain} runs
 *       ({@link Steps#crossEntropy}, {@link AdamW#step});</li>
 *   <li><b>kd</b>: frozen teacher forward without autograd + student forward, forward KL(teacher ‖ student) over the
 *       vocabulary, backward, AdamW ({@link Steps#distillation}).</li>
 * </ul>
 * Random ids (four batches, cycled), warm-up steps first, then the median (and range) of the timed steps.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Measure tokens/s of a full training step: pretrain (forward, full-vocabulary cross-entropy, "
                + "backward, AdamW) and kd (frozen teacher forward + student forward, forward KL, backward, AdamW), "
                + "on random ids, median of the timed steps after warm-up.",
                "Step definitions and defaults match the eager-PyTorch reference torch_bench.py "
                        + "(small: seq 256 x batch 8, 3 warm-up, 10 timed; tiny: seq 128 x batch 8, 5 warm-up, 30 timed)."},
        footer = {"", "Examples:", "  nestlm bench train", "  nestlm bench train --preset tiny --only pretrain --json",
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

    @Option(names = "--only", split = ",", defaultValue = "pretrain,kd",
            description = "Steps to measure, comma-separated: pretrain, kd (default: ${DEFAULT-VALUE}).")
    List<String> only;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the weights and the random ids (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Option(names = "--ranks", defaultValue = "1", description = "Data-parallel ranks: runs as 'mpirun -np N' on this host, "
            + "each rank computing batch/N sequences; the gradient all-reduce is timed apart (default ${DEFAULT-VALUE}).")
    int ranks;

    /**
     * One measured step kind; with several ranks also, per step, the wait for the slowest rank (a barrier before the
     * reduction) and the gradient all-reduce itself (copies and {@code MPI_Allreduce}).
     */
    record Measurement(String name, int tokensPerStep, double[] seconds, double firstLoss, double lastLoss,
                       double[] waitSeconds, double[] reduceSeconds) {
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
            if (!o.equals("pretrain") && !o.equals("kd")) {
                throw new IllegalArgumentException("--only: unknown step '" + o + "' (pretrain, kd)");
            }
        }
        if (threads > 0) {
            // read by DJL when the engine starts; set directly as well in case it has started already
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        }
        Architecture arch = Architecture.fromConfig(config);
        List<Measurement> results = new ArrayList<>();
        try (NDManager root = NDManager.newBaseManager()) {             // starts the engine
            if (threads > 0) {
                JniUtils.setNumThreads(threads);
            }
            int vocab = config.vocabSize();
            Random r = new Random(seed + 100 + comm.rank());
            List<long[]> data = new ArrayList<>();                     // four batches of seqLen + 1 ids, cycled
            for (int i = 0; i < 4; i++) {
                data.add(r.longs((long) local * (seqLen + 1), 0, vocab).toArray());
            }
            int tokens = batch * seqLen;
            if (only.contains("pretrain")) {
                try (NemotronH model = NemotronH.initialize(arch, seed + 1, root);
                     AdamW opt = new AdamW(new ArrayList<>(model.parameters().values()), root, 0.9, 0.95, 0.1);
                     GradientAllReduce reducer = new GradientAllReduce(new ArrayList<>(model.parameters().values()), comm)) {
                    int[] it = {0};
                    results.add(measure("pretrain", tokens, warm, timed, comm, reducer, () -> {
                        long[] d = data.get(it[0]++ % data.size());
                        return Steps.crossEntropy(model, m -> batchOf(m, d, local, seqLen), comm.size());
                    }, () -> opt.step(3e-4, 1.0)));
                }
            }
            if (only.contains("kd")) {
                try (NemotronH teacher = NemotronH.initialize(arch, seed + 2, root);
                     NemotronH student = NemotronH.initialize(arch, seed + 3, root);
                     AdamW opt = new AdamW(new ArrayList<>(student.parameters().values()), root, 0.9, 0.95, 0.1);
                     GradientAllReduce reducer = new GradientAllReduce(new ArrayList<>(student.parameters().values()), comm)) {
                    int[] it = {0};
                    results.add(measure("kd", tokens, warm, timed, comm, reducer, () -> {
                        long[] d = data.get(it[0]++ % data.size());
                        return Steps.distillation(teacher, student, m -> batchOf(m, d, local, seqLen).inputs(), comm.size());
                    }, () -> opt.step(3e-4, 1.0)));
                }
            }
        }
        int usedThreads = JniUtils.getNumThreads();
        print(name, arch.parameterCount(), seqLen, usedThreads, warm, comm.size(), results);
        return 0;
    }

    /** Inputs ids[:, :L] and targets ids[:, 1:] of one [batch, L+1] block. */
    private static WindowSampler.Batch batchOf(NDManager m, long[] d, int batch, int seqLen) {
        NDArray all = Tensors.of(m, d, new Shape(batch, seqLen + 1));
        return new WindowSampler.Batch(all.get(":, :" + seqLen), all.get(":, 1:"));
    }

    /**
     * Warm-up, then timed steps of: {@code gradients} (forward and backward of this rank's share, returning its
     * loss), with several ranks a barrier and the gradient all-reduce (each timed on its own), then {@code update}.
     */
    private static Measurement measure(String name, int tokens, int warm, int timed, Communicator comm,
                                       GradientAllReduce reducer, DoubleSupplier gradients, Runnable update) {
        double first = Double.NaN, last = Double.NaN;
        double[] seconds = new double[timed], waits = new double[timed], reduces = new double[timed];
        for (int i = -warm; i < timed; i++) {
            long t0 = System.nanoTime();
            double loss = gradients.getAsDouble();                   // getFloat() of the loss synchronises
            long t1 = System.nanoTime();
            comm.barrier();
            long t2 = System.nanoTime();
            reducer.sum();
            long t3 = System.nanoTime();
            update.run();
            loss = comm.sum(loss) / comm.size();                    // the mean over the global batch
            long t4 = System.nanoTime();
            if (Double.isNaN(first)) {
                first = loss;
            }
            last = loss;
            if (i >= 0) {
                seconds[i] = (t4 - t0) / 1e9;
                waits[i] = (t2 - t1) / 1e9;
                reduces[i] = (t3 - t2) / 1e9;
            }
        }
        return new Measurement(name, tokens, seconds, first, last, waits, reduces);
    }

    private void print(String name, long params, int seqLen, int usedThreads, int warm, int size, List<Measurement> results) {
        if (json) {
            var o = ConfigJson.MAPPER.createObjectNode();
            o.put("benchmark", "nestlm bench train").put("config", name).put("parameters", params)
                    .put("batch", batch).put("seq_len", seqLen).put("tokens_per_step", batch * seqLen).put("ranks", size)
                    .put("threads", usedThreads).put("warmup", warm).put("engine", "DJL " + ai.djl.engine.Engine.getDjlVersion()
                            + " / libtorch " + ai.djl.engine.Engine.getInstance().getVersion());
            var res = o.putObject("results");
            for (Measurement m : results) {
                var e = res.putObject(m.name());
                e.put("tokens_per_s_median", m.tokensPerSecond()).put("tokens_per_s_min", m.minTokensPerSecond())
                        .put("tokens_per_s_max", m.maxTokensPerSecond()).put("median_s", m.medianSeconds())
                        .put("repeats", m.seconds().length);
                var s = e.putArray("seconds");
                for (double x : m.seconds()) {
                    s.add(Math.round(x * 1e6) / 1e6);
                }
                e.putArray("loss_first_last").add(m.firstLoss()).add(m.lastLoss());
                if (size > 1) {
                    e.put("wait_median_s", Measurement.median(m.waitSeconds()))
                            .put("allreduce_median_s", Measurement.median(m.reduceSeconds()));
                }
            }
            System.out.println(o.toPrettyString());
            return;
        }
        System.out.printf(Locale.ROOT, "bench train %s: %,d parameters, batch %d x seq %d = %d tokens/step, %s%d threads, "
                + "DJL %s / libtorch %s%n", name, params, batch, seqLen, batch * seqLen,
                size > 1 ? size + " ranks (MPI) x " : "", usedThreads,
                ai.djl.engine.Engine.getDjlVersion(), ai.djl.engine.Engine.getInstance().getVersion());
        for (Measurement m : results) {
            System.out.printf(Locale.ROOT, "  %-9s median %.4f s/step  %10.1f tok/s  [%.1f .. %.1f]  (%d timed after %d warm-up; "
                            + "loss %.3f -> %.3f)%n", m.name(), m.medianSeconds(), m.tokensPerSecond(),
                    m.minTokensPerSecond(), m.maxTokensPerSecond(), m.seconds().length, warm, m.firstLoss(), m.lastLoss());
            if (size > 1) {
                double wait = Measurement.median(m.waitSeconds()), reduce = Measurement.median(m.reduceSeconds());
                System.out.printf(Locale.ROOT, "  %-9s all-reduce median %.4f s/step (%.1f %% of a step), waiting for the "
                        + "slowest rank %.4f s%n", "", reduce, 100 * reduce / m.medianSeconds(), wait);
            }
        }
    }
}
