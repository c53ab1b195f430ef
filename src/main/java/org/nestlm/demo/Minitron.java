package org.nestlm.demo;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nestlm.dist.Communicator;
import org.nestlm.dist.SingleProcess;
import org.nestlm.elastic.Subnet;
import org.nestlm.io.Checkpoint;
import org.nestlm.io.DType;
import org.nestlm.model.Architecture;
import org.nestlm.model.ConfigJson;
import org.nestlm.model.NemotronH;
import org.nestlm.train.AdamW;
import org.nestlm.train.Charts;
import org.nestlm.train.GradientAllReduce;
import org.nestlm.train.Losses;
import org.nestlm.train.RunDirectory;
import org.nestlm.train.RunFingerprint;
import org.nestlm.train.Steps;
import org.nestlm.train.TokenSource;
import org.nestlm.train.TrainLog;
import org.nestlm.train.WindowSampler;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Baseline (b), Minitron-style compression of one size (docs/METHOD.md §10): cut the (permuted) parent by the
 * importance rankings to {@code sub}, then distil that student alone from the same frozen parent with logit-only
 * forward KL at τ = 1, the loss the elastic run uses ({@link Steps#distillation}). Optimiser and schedule are the
 * elastic run's (AdamW, β 0.9/0.95, linear warm-up then constant LR, global-norm clip 1), so the only difference
 * from the elastic run is that each size is trained on its own.
 *
 * <p>Data-parallel as pretraining is ({@link org.nestlm.train.Pretrainer}): a step has {@code accumulation}
 * micro-batches, drawn from (seed, step, micro-batch index); rank r of N computes micro-batches r, r + N, … with the
 * loss scaling of one process (1 / accumulation), the gradients are summed over ranks ({@link GradientAllReduce})
 * and every rank applies the same update. N ranks with accumulation A therefore compute what one process with
 * accumulation A computes. Rank 0 alone validates and writes.
 *
 * <p>The output directory is a checkpoint (config.json, model.safetensors, tokenizer.json) with {@code log.jsonl} and
 * {@code kd.png}; it is built under a temporary name and renamed when complete, so it exists only when finished.
 */
public final class Minitron {

    /**
     * Distillation settings: student tokens, window, sequences per micro-batch, micro-batches per optimizer step (of
     * the whole job), learning rate, warm-up steps, validation cadence and size, seed.
     */
    public record Settings(long tokens, int seqLen, int batch, int accumulation, double lr, int warmup, int evalEvery,
                           int evalBatches, long seed) {
        public Settings {
            if (seqLen < 1 || batch < 1 || accumulation < 1 || evalEvery < 1 || evalBatches < 1) {
                throw new IllegalArgumentException("Minitron settings must be positive: " + this);
            }
        }

        public int steps() {
            return (int) Math.max(1, tokens / tokensPerStep());
        }

        public long tokensPerStep() {
            return (long) seqLen * batch * accumulation;
        }
    }

    /** Held-out loss at the end (rank 0; NaN on the other ranks) and the tokens the student trained on. */
    public record Result(int steps, long tokens, double valLoss) {
    }

    private Minitron() {
    }

    /** One process. */
    public static Result run(Checkpoint parent, Subnet sub, TokenSource train, TokenSource validation, Path out,
                             Settings s, PrintStream console) throws IOException {
        return run(parent, sub, train, validation, out, s, console, SingleProcess.INSTANCE);
    }

    /** One rank of {@code comm}; every rank calls it with the same arguments. */
    public static Result run(Checkpoint parent, Subnet sub, TokenSource train, TokenSource validation, Path out,
                             Settings s, PrintStream console, Communicator comm) throws IOException {
        if (s.accumulation() % comm.size() != 0) {
            throw new IllegalArgumentException("accumulation " + s.accumulation() + " is not a multiple of the " + comm.size()
                    + " ranks (each rank computes every " + comm.size() + "th micro-batch of a step)");
        }
        Architecture full = parent.architecture();
        sub.validate(full);
        Architecture cut = sub.architecture(full.config());
        Path target = out.toAbsolutePath().normalize();
        Path tmp = target.resolveSibling("." + target.getFileName() + ".training");
        Map<String, float[]> weights = new LinkedHashMap<>();
        for (String name : full.tensorShapes().keySet()) {
            weights.put(name, parent.floats(name));
        }
        Map<String, float[]> sliced = sub.slice(full, weights::get);
        TrainLog log = null;
        double val = Double.NaN;
        try (NDManager root = NDManager.newBaseManager();
             NemotronH teacher = NemotronH.fromTensors(full, root, weights::get);
             NemotronH student = NemotronH.fromTensors(cut, root, sliced::get);
             AdamW opt = new AdamW(new ArrayList<>(student.parameters().values()), root, 0.9, 0.95, 0.0)) {
            int steps = s.steps();
            comm.requireSame("the Minitron run's settings, data and weights",
                    RunFingerprint.of(s, student, 0, steps, train, validation) * 31 + RunFingerprint.of(s, teacher, 0, steps));
            if (comm.isRoot()) {
                RunDirectory.deleteTree(tmp);
                Files.createDirectories(tmp);
                log = new TrainLog(tmp);
            }
            if (comm.size() > 1) {
                console.printf(Locale.ROOT, "  minitron %s: %d ranks (MPI), each computes %d of the %d micro-batches of a step%n",
                        target.getFileName(), comm.size(), s.accumulation() / comm.size(), s.accumulation());
            }
            WindowSampler sampler = new WindowSampler(train, s.seqLen(), s.batch(), s.seed());
            long t0 = System.nanoTime();
            try (GradientAllReduce reducer = new GradientAllReduce(new ArrayList<>(student.parameters().values()), comm)) {
                for (int step = 0; step < steps; step++) {
                    double kd = 0;
                    for (int micro = comm.rank(); micro < s.accumulation(); micro += comm.size()) {
                        int st = step, mi = micro;
                        kd += Steps.distillation(teacher, student, scope -> sampler.batch(scope, st, mi).inputs(),
                                s.accumulation()) / s.accumulation();
                    }
                    kd = comm.sum(kd);
                    reducer.sum();
                    double lr = s.lr() * (s.warmup() <= 0 ? 1 : Math.min(1.0, (step + 1.0) / s.warmup()));
                    opt.step(lr, 1.0);
                    int done = step + 1;
                    if (!comm.isRoot()) {
                        continue;                                    // rank 0 validates, logs and reports
                    }
                    ObjectNode e = ConfigJson.MAPPER.createObjectNode().put("step", done).put("tokens", done * s.tokensPerStep())
                            .put("lr", lr).put("kd", kd).put("loss", kd);
                    if (done % s.evalEvery() == 0 || done == steps) {
                        val = validate(student, validation, s);
                        e.put("val_loss", val);
                    }
                    log.append(e);
                    if (done % s.evalEvery() == 0 || done == steps) {
                        double secs = (System.nanoTime() - t0) / 1e9;
                        console.printf(Locale.ROOT, "  minitron %s: step %d/%d  kd %.4f  %.0f tok/s%s%n", target.getFileName(),
                                done, steps, kd, done * s.tokensPerStep() / Math.max(secs, 1e-9),
                                e.has("val_loss") ? String.format(Locale.ROOT, "  val %.4f", val) : "");
                    }
                }
            }
            if (comm.isRoot()) {
                student.save(tmp, DType.F32);
            }
        }
        if (comm.isRoot()) {
            Checkpoint.copyTokenizer(parent.dir(), tmp);
            plot(log, tmp.resolve("kd.png"), target.getFileName().toString());
            RunDirectory.deleteTree(target);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        }
        return new Result(s.steps(), s.steps() * s.tokensPerStep(), val);
    }

    /** Mean next-token loss on the fixed validation windows (the ones the other runs validate on). */
    static double validate(NemotronH model, TokenSource validation, Settings s) {
        try (NDManager scope = NDManager.newBaseManager()) {
            double sum = 0;
            long n = 0;
            for (WindowSampler.Batch b : WindowSampler.validation(scope, validation, s.seqLen(), s.batch(), s.evalBatches())) {
                long c = b.targets().getShape().size();
                sum += Losses.crossEntropy(model.forward(b.inputs()), b.targets()).getFloat() * c;
                n += c;
            }
            return sum / n;
        }
    }

    private static void plot(TrainLog log, Path png, String name) throws IOException {
        List<Double> x = new ArrayList<>(), y = new ArrayList<>();
        for (JsonNode e : log.entries()) {
            x.add(e.get("step").asDouble());
            y.add(e.get("kd").asDouble());
        }
        Charts.lines(png, "Minitron-style distillation of " + name, "step", "KL (nats / token)",
                Map.of("kd", new Charts.Series(x, y, false)));
    }
}
