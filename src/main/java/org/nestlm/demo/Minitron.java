package org.nestlm.demo;

import org.nestlm.slice.Slicer;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nestlm.elastic.Distillation;
import org.nestlm.sizes.Subnet;
import org.nestlm.model.Checkpoint;
import org.nestlm.io.DType;
import org.nestlm.model.Architecture;
import org.nestlm.model.ConfigJson;
import org.nestlm.model.NemotronH;
import org.nestlm.train.AdamW;
import org.nestlm.train.Charts;
import org.nestlm.train.Losses;
import org.nestlm.train.RunDirectory;
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
 * forward KL at τ = 1, the loss the elastic run uses ({@link Distillation#forwardKl}). Optimiser and schedule are the
 * elastic run's (AdamW, β 0.9/0.95, linear warm-up then constant LR, global-norm clip 1), so the only difference
 * from the elastic run is that each size is trained on its own.
 *
 * <p>The output directory is a checkpoint (config.json, model.safetensors, tokenizer.json) with {@code log.jsonl} and
 * {@code kd.png}; it is built under a temporary name and renamed when complete, so it exists only when finished.
 */
public final class Minitron {

    /** Distillation settings: student tokens, window, batch, learning rate, warm-up steps, validation cadence. */
    public record Settings(long tokens, int seqLen, int batch, double lr, int warmup, int evalEvery, int evalBatches, long seed) {
        public int steps() {
            return (int) Math.max(1, tokens / ((long) seqLen * batch));
        }

        public long tokensPerStep() {
            return (long) seqLen * batch;
        }
    }

    /** Held-out loss at the end and the tokens the student trained on. */
    public record Result(int steps, long tokens, double valLoss) {
    }

    private Minitron() {
    }

    public static Result run(Checkpoint parent, Subnet sub, TokenSource train, TokenSource validation, Path out,
                             Settings s, PrintStream console) throws IOException {
        Architecture full = parent.architecture();
        sub.validate(full);
        Architecture cut = sub.architecture(full.config());
        Path target = out.toAbsolutePath().normalize();
        Path tmp = target.resolveSibling("." + target.getFileName() + ".training");
        RunDirectory.deleteTree(tmp);
        Files.createDirectories(tmp);
        Map<String, float[]> weights = new LinkedHashMap<>();
        for (String name : full.tensorShapes().keySet()) {
            weights.put(name, parent.floats(name));
        }
        Map<String, float[]> sliced = Slicer.slice(full, sub, weights::get);
        TrainLog log = new TrainLog(tmp);
        double val = Double.NaN;
        try (NDManager root = NDManager.newBaseManager();
             NemotronH teacher = NemotronH.fromTensors(full, root, weights::get);
             NemotronH student = NemotronH.fromTensors(cut, root, sliced::get);
             AdamW opt = new AdamW(new ArrayList<>(student.parameters().values()), root, 0.9, 0.95, 0.0)) {
            WindowSampler sampler = new WindowSampler(train, s.seqLen(), s.batch(), s.seed());
            int steps = s.steps();
            long t0 = System.nanoTime();
            for (int step = 0; step < steps; step++) {
                double kd;
                try (NDManager scope = NDManager.newBaseManager()) {
                    WindowSampler.Batch batch = sampler.batch(scope, step, 0);
                    NDArray teacherLogits = teacher.forward(batch.inputs());      // outside the collector: no graph
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray loss = Distillation.forwardKl(teacherLogits, student.forward(batch.inputs()));
                        kd = loss.getFloat();
                        gc.backward(loss);
                    }
                }
                double lr = s.lr() * (s.warmup() <= 0 ? 1 : Math.min(1.0, (step + 1.0) / s.warmup()));
                opt.step(lr, 1.0);
                int done = step + 1;
                ObjectNode e = ConfigJson.MAPPER.createObjectNode().put("step", done).put("tokens", done * s.tokensPerStep())
                        .put("lr", lr).put("kd", kd).put("loss", kd);
                if (done % s.evalEvery() == 0 || done == steps) {
                    val = validate(student, validation, s);
                    e.put("val_loss", val);
                }
                log.append(e);
                if (done % Math.max(1, s.evalEvery()) == 0 || done == steps) {
                    double secs = (System.nanoTime() - t0) / 1e9;
                    console.printf(Locale.ROOT, "  minitron %s: step %d/%d  kd %.4f  %.0f tok/s%s%n", target.getFileName(), done,
                            steps, kd, done * s.tokensPerStep() / Math.max(secs, 1e-9),
                            e.has("val_loss") ? String.format(Locale.ROOT, "  val %.4f", val) : "");
                }
            }
            student.save(tmp, DType.F32);
        }
        Checkpoint.copyTokenizer(parent.dir(), tmp);
        plot(log, tmp.resolve("kd.png"), target.getFileName().toString());
        RunDirectory.deleteTree(target);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
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
