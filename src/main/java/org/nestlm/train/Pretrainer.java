package org.nestlm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.nestlm.dist.Communicator;
import org.nestlm.dist.SingleProcess;
import org.nestlm.io.AtomicFiles;
import org.nestlm.model.Checkpoint;
import org.nestlm.io.DType;
import org.nestlm.io.SafetensorsWriter;
import org.nestlm.io.TensorStore;
import org.nestlm.model.Architecture;
import org.nestlm.model.ConfigJson;
import org.nestlm.model.ModelConfig;
import org.nestlm.model.NemotronH;
import org.nestlm.model.Param;

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
 * Pretraining of a parent model: next-token cross-entropy, AdamW with warm-up + cosine, gradient
 * accumulation, periodic validation and resumable checkpoints.
 *
 * <p>The run directory is itself a Nemotron-H checkpoint ({@code config.json}, {@code model.safetensors},
 * the latest weights) plus {@code train_state/} (fp32 weights, AdamW moments, {@code state.json} with the
 * step and settings), {@code log.jsonl} and {@code loss.png}. {@code train_state} is written to a
 * temporary directory and swapped in, so a kill at any moment leaves the last complete checkpoint.
 * Data order depends only on (seed, step) ({@link WindowSampler}), so a resumed run repeats an
 * uninterrupted one exactly.
 *
 * <p>Data-parallel ({@link #withCommunicator}): {@code accumulation} stays the global number of micro-batches per step;
 * rank r of N computes micro-batches r, r + N, r + 2N, … of each step with the same loss scaling (1 / accumulation),
 * the gradients are summed across ranks ({@link GradientAllReduce}) before every rank applies the same AdamW
 * update, so N ranks compute what one process does. Rank 0 alone holds and writes the run directory; every rank
 * starts from it, and the ranks check at the start that they agree on settings, data, steps and weights.
 */
public final class Pretrainer {

    private final Path out;
    private final PretrainConfig config;
    private final TokenSource train;
    private final TokenSource validation;
    private final PrintStream console;
    /** Consecutive non-finite steps tolerated before a run is declared diverged. */
    static final int MAX_SKIPPED_STEPS = 5;
    private int skipped;
    private java.util.function.IntConsumer stepListener = step -> { };
    private ObjectNode runInfo;
    private Communicator comm = SingleProcess.INSTANCE;

    public Pretrainer(Path out, PretrainConfig config, TokenSource train, TokenSource validation, PrintStream console) {
        this.out = out;
        this.config = config;
        this.train = train;
        this.validation = validation;
        this.console = console;
    }

    /** Called after every optimizer step with the number of steps done (progress reporting, tests). */
    public Pretrainer onStep(java.util.function.IntConsumer listener) {
        this.stepListener = listener;
        return this;
    }

    /**
     * Extra facts about the run (corpus, tokenizer, model source) stored under {@code "run"} in
     * {@code train_state/state.json}, so that {@code nestlm pretrain --resume} needs no flags repeated.
     */
    public Pretrainer withRunInfo(ObjectNode info) {
        this.runInfo = info;
        return this;
    }

    /** Runs as one rank of {@code comm}'s data-parallel job (default: a single process). */
    public Pretrainer withCommunicator(Communicator comm) {
        this.comm = comm;
        return this;
    }

    /** Final figures of a run. */
    public record Result(int steps, double trainLoss, double valLoss, double valBitsPerByte) {
    }

    /**
     * Trains a new model of {@code modelConfig} (or continues {@code out}'s checkpoint when {@code resume})
     * until the configured token count, or until {@code stopAfter} steps when that is positive (used to
     * simulate a killed run).
     */
    public Result run(ModelConfig modelConfig, boolean resume, int stopAfter) throws IOException {
        if (config.accumulation() % comm.size() != 0) {
            throw new IllegalArgumentException("--accumulation " + config.accumulation() + " is not a multiple of the "
                    + comm.size() + " ranks (each rank computes every " + comm.size() + "th micro-batch of a step)");
        }
        // rank 0 holds the run directory (its lock, a killed writer's leftovers removed); the others only read it
        RunDirectory dir = comm.isRoot() ? RunDirectory.open(out) : null;
        comm.barrier();
        try (dir; NDManager root = NDManager.newBaseManager()) {
            int startStep = 0;
            NemotronH model;
            Map<String, float[]> optimizerState = null;
            Path stateDir = RunDirectory.state(out);
            if (resume) {
                if (!Files.isDirectory(stateDir)) {
                    throw new IOException(out + ": nothing to resume (no " + RunDirectory.STATE_DIR + "/)");
                }
                var state = ConfigJson.MAPPER.readTree(stateDir.resolve("state.json").toFile());
                startStep = state.get("step").asInt();
                PretrainConfig saved = ConfigJson.MAPPER.treeToValue(state.get("config"), PretrainConfig.class);
                if (!saved.equals(config)) {
                    throw new IllegalArgumentException(out + ": --resume with settings that differ from the run's: "
                            + saved + " vs " + config);
                }
                try (Checkpoint ckpt = Checkpoint.open(stateDir)) {
                    model = NemotronH.load(ckpt, root);
                }
                optimizerState = TensorStore.readFloats(stateDir.resolve("optimizer.safetensors"));
                console.printf("resuming %s at step %d of %d%n", out, startStep, config.totalSteps());
            } else {
                if (Files.exists(stateDir)) {
                    throw new IllegalArgumentException(out + " holds a training run already; pass --resume to continue it "
                            + "or choose another --out");
                }
                model = NemotronH.initialize(Architecture.fromConfig(modelConfig), config.seed(), root);
            }
            TrainLog log = comm.isRoot() ? dir.log(startStep) : null;
            List<Param> params = new ArrayList<>(model.parameters().values());
            try (model; AdamW optimizer = new AdamW(params, root, config.beta1(), config.beta2(), config.weightDecay())) {
                if (optimizerState != null) {
                    optimizer.load(optimizerState, startStep);
                }
                comm.requireSame("the run's settings, data, steps and weights",
                        RunFingerprint.of(config, model, startStep, stopAfter, train, validation));
                try (GradientAllReduce reducer = new GradientAllReduce(params, comm)) {
                    return loop(model, optimizer, reducer, log, startStep, stopAfter);
                }
            }
        }
    }

    private Result loop(NemotronH model, AdamW optimizer, GradientAllReduce reducer, TrainLog log, int startStep,
                        int stopAfter) throws IOException {
        int total = config.totalSteps();
        int end = stopAfter > 0 ? Math.min(total, stopAfter) : total;
        WindowSampler sampler = new WindowSampler(train, config.seqLen(), config.batchSize(), config.seed());
        double lastLoss = Double.NaN, lastVal = Double.NaN, lastBpb = Double.NaN;
        long tokensPerStep = config.tokensPerStep();
        try (ProgressBar bar = progressBar(total, startStep)) {
            long started = System.nanoTime();
            for (int step = startStep; step < end; step++) {
                double lr = config.learningRate(step);
                double loss = 0;
                for (int micro = comm.rank(); micro < config.accumulation(); micro += comm.size()) {
                    int st = step, mi = micro;
                    loss += Steps.crossEntropy(model, scope -> sampler.batch(scope, st, mi), config.accumulation())
                            / config.accumulation();
                }
                loss = comm.sum(loss);
                reducer.sum();
                if (!Double.isFinite(loss)) {
                    throw new IllegalStateException("training diverged at step " + step + " (loss " + loss
                            + "); lower --lr or raise --warmup");
                }
                double gradNorm;
                String skip = null;
                try {
                    gradNorm = optimizer.step(lr, config.clipNorm());
                    skipped = 0;
                } catch (NonFiniteGradientException e) {
                    // a rare overflow: skip the step (as mixed-precision trainers do), but never silently forever
                    optimizer.zeroGradients();
                    if (++skipped > MAX_SKIPPED_STEPS) {
                        throw new IllegalStateException("training diverged at step " + (step + 1) + ": " + e.getMessage()
                                + " for " + skipped + " steps in a row; lower --lr or raise --warmup", e);
                    }
                    console.printf(Locale.ROOT, "warning: step %d skipped: %s%n", step + 1, e.getMessage());
                    gradNorm = Double.NaN;
                    skip = e.getMessage();
                }
                lastLoss = loss;
                int done = step + 1;
                double elapsed = (System.nanoTime() - started) / 1e9;
                double tps = (done - startStep) * tokensPerStep / Math.max(elapsed, 1e-9);
                ObjectNode entry = ConfigJson.MAPPER.createObjectNode().put("step", done).put("tokens", done * tokensPerStep)
                        .put("lr", lr).put("loss", loss);
                if (skip == null) {
                    entry.put("grad_norm", gradNorm);
                } else {
                    entry.put("skipped", skip);          // no update was applied: the gradient norm is not a number
                }
                entry.put("tokens_per_s", Math.round(tps));
                if (comm.isRoot() && (done % config.evalEvery() == 0 || done == total)) {
                    double[] v = validate(model);
                    lastVal = v[0];
                    lastBpb = v[1];
                    entry.put("val_loss", v[0]).put("val_ppl", Math.exp(v[0])).put("val_bpb", v[1]);
                }
                if (comm.isRoot()) {
                    log.append(entry);
                }
                stepListener.accept(done);
                if (bar != null) {
                    bar.stepTo(done * tokensPerStep);
                    bar.setExtraMessage(String.format(Locale.ROOT, "loss %.3f%s", loss,
                            Double.isNaN(lastVal) ? "" : String.format(Locale.ROOT, " val %.3f", lastVal)));
                } else if (done % Math.max(1, config.evalEvery() / 4) == 0 || done == end) {
                    console.printf(Locale.ROOT, "step %d/%d  tokens %d  loss %.4f  lr %.2e  %.0f tok/s%s%n", done, total,
                            done * tokensPerStep, loss, lr, tps,
                            entry.has("val_loss") ? String.format(Locale.ROOT, "  val %.4f (bpb %.3f)", lastVal, lastBpb) : "");
                }
                if (comm.isRoot() && (done % config.checkpointEvery() == 0 || done == end)) {
                    saveCheckpoint(model, optimizer, done);
                    log.plot(out.resolve("loss.png"), "pretraining: " + model.config().hybridOverridePattern() + ", "
                            + model.architecture().parameterCount() + " parameters");
                }
            }
        }
        return new Result(end, lastLoss, lastVal, lastBpb);
    }

    /** Mean validation loss (nats/token) and bits per byte over the fixed validation windows. */
    double[] validate(NemotronH model) {
        try (NDManager scope = NDManager.newBaseManager()) {
            List<WindowSampler.Batch> batches = WindowSampler.validation(scope, validation, config.seqLen(),
                    config.batchSize(), config.evalBatches());
            double sum = 0;
            long count = 0;
            for (WindowSampler.Batch b : batches) {
                long n = b.targets().getShape().size();
                sum += Losses.crossEntropy(model.forward(b.inputs()), b.targets()).getFloat() * n;
                count += n;
            }
            double loss = sum / count;
            double bpb = loss / Math.log(2) / validation.bytesPerToken();
            return new double[] {loss, bpb};
        }
    }

    private void saveCheckpoint(NemotronH model, AdamW optimizer, int step) throws IOException {
        RunDirectory.save(out, tmp -> {
            model.save(tmp, DType.F32);
            SafetensorsWriter.write(tmp.resolve("optimizer.safetensors"), optimizer.tensors(), DType.F32, Map.of());
            ObjectNode s = ConfigJson.MAPPER.createObjectNode();
            s.put("step", step);
            s.put("tokens", step * config.tokensPerStep());
            s.set("config", ConfigJson.MAPPER.valueToTree(config));
            if (runInfo != null) {
                s.set("run", runInfo);
            }
            AtomicFiles.writeString(tmp.resolve("state.json"), ConfigJson.MAPPER.writeValueAsString(s));
        });
        // the run directory is a usable checkpoint of the latest weights
        model.save(out, DType.F32);
    }


    /** A bar on an interactive terminal; plain log lines otherwise (CI logs, pipes). */
    private ProgressBar progressBar(int totalSteps, int startStep) {
        if (System.console() == null || !System.console().isTerminal()) {
            return null;
        }
        return new ProgressBarBuilder().setTaskName("pretrain").setInitialMax(totalSteps * config.tokensPerStep())
                .setUnit(" tok", 1).showSpeed().setStyle(ProgressBarStyle.COLORFUL_UNICODE_BAR)
                .startsFrom(startStep * config.tokensPerStep(), java.time.Duration.ZERO).build();
    }
}
