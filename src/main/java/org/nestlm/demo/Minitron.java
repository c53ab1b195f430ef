package org.nestlm.demo;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nestlm.dist.Communicator;
import org.nestlm.dist.SingleProcess;
import org.nestlm.elastic.Distillation;
import org.nestlm.sizes.Subnet;
import org.nestlm.slice.Slicer;
import org.nestlm.model.Checkpoint;
import org.nestlm.io.DType;
import org.nestlm.io.SafetensorsWriter;
import org.nestlm.io.TensorStore;
import org.nestlm.model.Architecture;
import org.nestlm.model.NemotronH;
import org.nestlm.train.AdamW;
import org.nestlm.train.Batching;
import org.nestlm.train.Cadence;
import org.nestlm.train.Charts;
import org.nestlm.train.GradientAllReduce;
import org.nestlm.train.OptimizerConfig;
import org.nestlm.train.RunDirectory;
import org.nestlm.train.RunFingerprint;
import org.nestlm.train.Steps;
import org.nestlm.train.TokenSource;
import org.nestlm.train.TrainLog;
import org.nestlm.train.TrainingRun;
import org.nestlm.train.ValidationLoss;
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
 * forward KL at τ = 1, the loss the elastic run uses ({@link Distillation#forwardKl}). Optimiser and schedule are the
 * elastic run's (AdamW, β 0.9/0.95, linear warm-up then constant LR, global-norm clip 1), so the only difference
 * from the elastic run is that each size is trained on its own. The loop, its checkpoints and its log are
 * {@link TrainingRun}'s.
 *
 * <p>Data-parallel as pretraining is ({@link org.nestlm.train.Pretrainer}): a step has {@code accumulation}
 * micro-batches, drawn from (seed, step, micro-batch index); rank r of N computes micro-batches r, r + N, … with the
 * loss scaling of one process (1 / accumulation), the gradients are summed over ranks ({@link GradientAllReduce})
 * and every rank applies the same update. N ranks with accumulation A therefore compute what one process with
 * accumulation A computes. Rank 0 alone writes.
 *
 * <p>The output directory is a checkpoint (config.json, model.safetensors, tokenizer.json) with {@code log.jsonl} and
 * {@code kd.png}; it is built under a temporary name and renamed when complete, so it exists only when finished. A
 * killed run continues from the temporary directory's last checkpoint.
 */
public final class Minitron {

    /**
     * Distillation settings.
     *
     * @param tokens    student tokens (steps = tokens / tokens per step, at least one)
     * @param batching  window, sequences per micro-batch, micro-batches per step (of the whole job)
     * @param lr        learning rate after the warm-up
     * @param warmup    linear warm-up steps
     * @param optimizer AdamW of the student
     * @param cadence   validation and checkpoint intervals
     * @param seed      data order
     */
    public record Settings(long tokens, Batching batching, double lr, int warmup, OptimizerConfig optimizer, Cadence cadence,
                           long seed) {

        /** The elastic run's optimizer (AdamW 0.9 / 0.95, no weight decay, clip 1), a checkpoint at every validation. */
        public static Settings of(long tokens, int seqLen, int batch, int accumulation, double lr, int warmup, int evalEvery,
                                  int evalBatches, long seed) {
            return new Settings(tokens, new Batching(seqLen, batch, accumulation), lr, warmup, new OptimizerConfig(0.9, 0.95, 0.0, 1.0),
                    new Cadence(evalEvery, evalBatches, evalEvery), seed);
        }

        public int steps() {
            return (int) Math.max(1, tokens / tokensPerStep());
        }

        public long tokensPerStep() {
            return batching.tokensPerStep();
        }

        /** Linear warm-up, then constant. */
        public double learningRate(int step) {
            return lr * (warmup <= 0 ? 1 : Math.min(1.0, (step + 1.0) / warmup));
        }
    }

    /** Held-out loss at the end and the tokens the student trained on. */
    public record Result(int steps, long tokens, double valLoss) {
    }

    private Minitron() {
    }

    /** One process. */
    public static Result run(Checkpoint parent, Subnet sub, TokenSource train, TokenSource validation, Path out,
                             Settings s, PrintStream console) throws IOException {
        return run(parent, sub, train, validation, out, s, console, SingleProcess.INSTANCE);
    }

    /** One rank of {@code comm}; every rank calls it with the same arguments, rank 0 writes {@code out}. */
    public static Result run(Checkpoint parent, Subnet sub, TokenSource train, TokenSource validation, Path out,
                             Settings s, PrintStream console, Communicator comm) throws IOException {
        int accumulation = s.batching().accumulation();
        if (accumulation % comm.size() != 0) {
            throw new IllegalArgumentException("accumulation " + accumulation + " is not a multiple of the " + comm.size()
                    + " ranks (each rank computes every " + comm.size() + "th micro-batch of a step)");
        }
        Architecture full = parent.architecture();
        sub.validate(full);
        Architecture cut = sub.architecture(full.config());
        Path target = out.toAbsolutePath().normalize();
        Path tmp = target.resolveSibling("." + target.getFileName() + ".training");
        boolean resume = comm.rootDecides(RunDirectory.hasState(tmp));
        if (!resume && comm.isRoot()) {
            RunDirectory.deleteTree(tmp);
        }
        comm.barrier();
        String name = target.getFileName().toString();
        TrainingRun.Plan plan = new TrainingRun.Plan("minitron", s, accumulation, s.steps(), steps -> steps * s.tokensPerStep(),
                s.cadence(), s.cadence().evalEvery(), "lower the learning rate");
        Map<String, float[]> weights = new LinkedHashMap<>();
        for (String tensor : full.tensorShapes().keySet()) {
            weights.put(tensor, parent.floats(tensor));
        }
        double val;
        try (TrainingRun run = TrainingRun.open(tmp, plan, resume, 0, comm, console);
             NDManager root = NDManager.newBaseManager()) {
            Map<String, float[]> init = run.resumed() ? TensorStore.readFloats(run.stateDir().resolve("model.safetensors"))
                    : Slicer.slice(full, sub, weights::get);
            try (NemotronH teacher = NemotronH.fromTensors(full, root, weights::get);
                 NemotronH student = NemotronH.fromTensors(cut, root, init::get);
                 AdamW opt = new AdamW(new ArrayList<>(student.parameters().values()), root, s.optimizer())) {
                if (run.resumed()) {
                    opt.load(TensorStore.readFloats(run.stateDir().resolve("optimizer.safetensors")), run.startStep());
                }
                comm.requireSame("the Minitron run's settings, data and weights",
                        RunFingerprint.of(s, student, run.startStep(), run.endStep(), train, validation) * 31
                                + RunFingerprint.of(s, teacher, run.startStep(), run.endStep()));
                if (comm.size() > 1 && comm.isRoot()) {
                    console.printf(Locale.ROOT, "  minitron %s: %d ranks (MPI), each computes %d of the %d micro-batches of a step%n",
                            name, comm.size(), accumulation / comm.size(), accumulation);
                }
                try (GradientAllReduce reducer = new GradientAllReduce(new ArrayList<>(student.parameters().values()), comm)) {
                    Distil task = new Distil(run, name, teacher, student, opt, reducer, train, validation, s);
                    run.loop(task);
                    val = Double.isNaN(task.val) ? validate(student, validation, s) : task.val;
                }
            }
        }
        if (!comm.isRoot()) {
            return new Result(s.steps(), s.steps() * s.tokensPerStep(), val);
        }
        // the finished checkpoint holds the weights and the log, not the state a resume needed
        RunDirectory.deleteTree(RunDirectory.state(tmp));
        Files.deleteIfExists(tmp.resolve(RunDirectory.LOCK_FILE));
        Checkpoint.copyTokenizer(parent.dir(), tmp);
        RunDirectory.deleteTree(target);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        return new Result(s.steps(), s.steps() * s.tokensPerStep(), val);
    }

    /** One step: teacher and student forward, forward KL, backward, AdamW ({@link Steps#distillation}). */
    private static final class Distil implements TrainingRun.Task {
        final TrainingRun run;
        final String name;
        final NemotronH teacher, student;
        final AdamW opt;
        final GradientAllReduce reducer;
        final TokenSource validation;
        final Settings s;
        final WindowSampler sampler;
        double val = Double.NaN;

        Distil(TrainingRun run, String name, NemotronH teacher, NemotronH student, AdamW opt, GradientAllReduce reducer,
               TokenSource train, TokenSource validation, Settings s) {
            this.run = run;
            this.name = name;
            this.teacher = teacher;
            this.student = student;
            this.opt = opt;
            this.reducer = reducer;
            this.validation = validation;
            this.s = s;
            this.sampler = new WindowSampler(train, s.batching().seqLen(), s.batching().batchSize(), s.seed());
        }

        @Override
        public void step(int step, ObjectNode entry) {
            int accumulation = s.batching().accumulation();
            Communicator comm = run.comm();
            double kd = 0;
            for (int micro = comm.rank(); micro < accumulation; micro += comm.size()) {
                int mi = micro;
                kd += Steps.distillation(teacher, student, scope -> sampler.batch(scope, step, mi).inputs(), accumulation)
                        / accumulation;
            }
            kd = comm.sum(kd);
            reducer.sum();
            if (!Double.isFinite(kd)) {
                throw run.diverged(step, "KD " + kd);
            }
            double lr = s.learningRate(step);
            TrainingRun.Update u = run.update(step, () -> opt.step(lr, s.optimizer().clipNorm()), opt::zeroGradients);
            entry.put("tokens", run.tokensAfter(step + 1)).put("lr", lr).put("kd", kd).put("loss", kd);
            u.logSkip(entry);
        }

        @Override
        public void validate(ObjectNode entry) {
            val = Minitron.validate(student, validation, s);
            entry.put("val_loss", val);
        }

        @Override
        public void save(Path state) throws IOException {
            student.save(state, DType.F32);
            SafetensorsWriter.write(state.resolve("optimizer.safetensors"), opt.tensors(), DType.F32, Map.of());
        }

        @Override
        public void checkpointed(TrainLog log) throws IOException {
            student.save(run.out(), DType.F32);
            plot(log, run.out().resolve("kd.png"), name);
        }

        @Override
        public String summary(ObjectNode e) {
            return String.format(Locale.ROOT, "%s: kd %.4f%s", name, e.get("kd").asDouble(),
                    e.has("val_loss") ? String.format(Locale.ROOT, "  val %.4f", val) : "");
        }
    }

    /** Mean next-token loss on the fixed validation windows (the ones the other runs validate on). */
    static double validate(NemotronH model, TokenSource validation, Settings s) {
        return ValidationLoss.mean(model, validation, s.batching().seqLen(), s.batching().batchSize(), s.cadence().evalBatches());
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
