package org.nestlm.train;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nestlm.dist.Communicator;
import org.nestlm.dist.SingleProcess;
import org.nestlm.model.Checkpoint;
import org.nestlm.io.DType;
import org.nestlm.io.SafetensorsWriter;
import org.nestlm.io.TensorStore;
import org.nestlm.model.Architecture;
import org.nestlm.model.ModelConfig;
import org.nestlm.model.NemotronH;
import org.nestlm.model.Param;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Pretraining of a parent model: next-token cross-entropy, AdamW with warm-up + cosine, gradient
 * accumulation, periodic validation and resumable checkpoints, in the loop of {@link TrainingRun}.
 *
 * <p>The run directory is itself a Nemotron-H checkpoint ({@code config.json}, {@code model.safetensors},
 * the latest weights) plus {@code train_state/} (fp32 weights, AdamW moments, {@code state.json} with the
 * step and settings), {@code log.jsonl} and {@code loss.png}. Data order depends only on (seed, step)
 * ({@link WindowSampler}), so a resumed run repeats an uninterrupted one exactly.
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

    /** The settings as the training loop sees them. */
    TrainingRun.Plan plan() {
        return new TrainingRun.Plan("pretrain", config, config.batching().accumulation(), config.totalSteps(),
                steps -> steps * config.tokensPerStep(), config.cadence(), Math.max(1, config.cadence().evalEvery() / 4),
                "lower --lr or raise --warmup");
    }

    /**
     * Trains a new model of {@code modelConfig} (or continues {@code out}'s checkpoint when {@code resume})
     * until the configured token count, or until {@code stopAfter} steps when that is positive (used to
     * simulate a killed run).
     */
    public Result run(ModelConfig modelConfig, boolean resume, int stopAfter) throws IOException {
        try (TrainingRun run = TrainingRun.open(out, plan(), resume, stopAfter, comm, console);
             NDManager root = NDManager.newBaseManager()) {
            run.onStep(stepListener).withRunInfo(runInfo);
            NemotronH model;
            if (run.resumed()) {
                try (Checkpoint ckpt = Checkpoint.open(run.stateDir())) {
                    model = NemotronH.load(ckpt, root);
                }
            } else {
                model = NemotronH.initialize(Architecture.fromConfig(modelConfig), config.seed(), root);
            }
            List<Param> params = new ArrayList<>(model.parameters().values());
            try (model; AdamW optimizer = new AdamW(params, root, config.optimizer())) {
                if (run.resumed()) {
                    optimizer.load(TensorStore.readFloats(run.stateDir().resolve("optimizer.safetensors")), run.startStep());
                }
                run.requireSameOnEveryRank(model, train, validation);
                try (GradientAllReduce reducer = new GradientAllReduce(params, comm)) {
                    Training t = new Training(run, model, optimizer, reducer);
                    run.loop(t);
                    return new Result(run.endStep(), t.lastLoss, t.lastVal, t.lastBpb);
                }
            }
        }
    }

    /** One pretraining step: every micro-batch of this rank, the all-reduce, the AdamW update. */
    private final class Training implements TrainingRun.Task {
        final TrainingRun run;
        final NemotronH model;
        final AdamW optimizer;
        final GradientAllReduce reducer;
        final WindowSampler sampler = new WindowSampler(train, config.batching().seqLen(), config.batching().batchSize(),
                config.seed());
        double lastLoss = Double.NaN, lastVal = Double.NaN, lastBpb = Double.NaN;

        Training(TrainingRun run, NemotronH model, AdamW optimizer, GradientAllReduce reducer) {
            this.run = run;
            this.model = model;
            this.optimizer = optimizer;
            this.reducer = reducer;
        }

        @Override
        public void step(int step, ObjectNode entry) {
            int accumulation = config.batching().accumulation();
            double lr = config.learningRate(step);
            double loss = 0;
            for (int micro = comm.rank(); micro < accumulation; micro += comm.size()) {
                int st = step, mi = micro;
                loss += Steps.crossEntropy(model, scope -> sampler.batch(scope, st, mi), accumulation) / accumulation;
            }
            loss = comm.sum(loss);
            reducer.sum();
            if (!Double.isFinite(loss)) {
                throw run.diverged(step, "loss " + loss);
            }
            TrainingRun.Update u = run.update(step, () -> optimizer.step(lr, config.optimizer().clipNorm()),
                    optimizer::zeroGradients);
            lastLoss = loss;
            entry.put("tokens", run.tokensAfter(step + 1)).put("lr", lr).put("loss", loss);
            u.logNormOrSkip(entry);
        }

        @Override
        public void validate(ObjectNode entry) {
            double[] v = Pretrainer.this.validate(model);
            lastVal = v[0];
            lastBpb = v[1];
            entry.put("val_loss", v[0]).put("val_ppl", Math.exp(v[0])).put("val_bpb", v[1]);
        }

        @Override
        public void save(Path state) throws IOException {
            model.save(state, DType.F32);
            SafetensorsWriter.write(state.resolve("optimizer.safetensors"), optimizer.tensors(), DType.F32, Map.of());
        }

        @Override
        public void checkpointed(TrainLog log) throws IOException {
            model.save(out, DType.F32);        // the run directory is a usable checkpoint of the latest weights
            log.plot(out.resolve("loss.png"), "pretraining: " + model.config().hybridOverridePattern() + ", "
                    + model.architecture().parameterCount() + " parameters");
        }

        @Override
        public String summary(ObjectNode e) {
            return String.format(Locale.ROOT, "loss %.4f  lr %.2e%s", e.get("loss").asDouble(), e.get("lr").asDouble(),
                    e.has("val_loss") ? String.format(Locale.ROOT, "  val %.4f (bpb %.3f)", lastVal, lastBpb) : "");
        }
    }

    /** Mean validation loss (nats/token) and bits per byte over the fixed validation windows. */
    double[] validate(NemotronH model) {
        double loss = ValidationLoss.mean(model, validation, config.batching().seqLen(), config.batching().batchSize(),
                config.cadence().evalBatches());
        return new double[] {loss, loss / Math.log(2) / validation.bytesPerToken()};
    }
}
