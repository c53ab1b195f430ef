package org.nestlm.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.nestlm.dist.Communicator;
import org.nestlm.io.AtomicFiles;
import org.nestlm.model.ConfigJson;
import org.nestlm.model.NemotronH;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.IntConsumer;
import java.util.function.IntToLongFunction;

/**
 * The loop every training run shares: pretraining ({@link Pretrainer}), elastic distillation ({@code Elastify}) and
 * the demo's distillation baseline. A run owns its directory, its step counter, resume, the checkpoint and validation
 * cadence, {@code log.jsonl}, the non-finite-step guard and the progress bar; what one step computes, what validation
 * measures and what a checkpoint holds are the {@link Task}'s.
 *
 * <pre>
 *   run = TrainingRun.open(out, plan, resume, stopAfter, comm, console)   // lock, resume or refuse, log cut back
 *   ... build the model and optimizers, from run.stateDir() when run.resumed() ...
 *   run.requireSameOnEveryRank(model, data)
 *   run.loop(task):  for step in [start, end):
 *       entry = {"step": step + 1};  task.step(step, entry)          // gradients, run.update(...), its log fields
 *       entry += tokens_per_s;  at validation steps task.validate(entry)
 *       log.append(entry); progress;  at checkpoint steps: train_state/ (task.save + state.json), task.checkpointed
 * </pre>
 *
 * <p>The directory: {@code train_state/} holds what a resume needs ({@code state.json} with the step, the tokens so
 * far, the settings and the task's extra facts, plus the task's files); it is written whole into a temporary directory
 * and swapped in ({@link RunDirectory#save}), so a kill at any moment leaves the last complete checkpoint. A resumed
 * run starts at that checkpoint's step with the log cut back to it; data order and noise depend only on (seed, step),
 * so it repeats an uninterrupted run exactly. A fresh run refuses a directory that holds a run already.
 *
 * <p>Data-parallel: every rank runs the loop; rank 0 alone holds and writes the directory, every rank validates (the
 * ranks hold the same weights, so every rank's result is the same), and {@link #requireSameOnEveryRank} checks at the
 * start that the ranks agree on settings, data, steps and weights.
 */
public final class TrainingRun implements AutoCloseable {

    /** Consecutive non-finite steps tolerated before a run is declared diverged. */
    public static final int MAX_SKIPPED_STEPS = 5;

    /**
     * What the loop needs of a run's settings.
     *
     * @param name         the kind of run: the progress bar's label and the messages' ("pretrain", "elastify", ...)
     * @param config       the settings record, stored in {@code state.json}; a resume requires it equal
     * @param accumulation micro-batches per step, split over the ranks
     * @param totalSteps   optimizer steps of the whole run
     * @param tokensAfter  training tokens seen after a given number of steps (steps may differ in length)
     * @param cadence      validation and checkpoint intervals
     * @param printEvery   steps between progress lines when there is no terminal (and at the end)
     * @param remedy       what to change when the run diverges, named in the error ("lower --lr or ...")
     */
    public record Plan(String name, Object config, int accumulation, int totalSteps, IntToLongFunction tokensAfter,
                       Cadence cadence, int printEvery, String remedy) {
    }

    /** What one kind of training computes. */
    public interface Task {
        /**
         * One optimizer step, {@code step} 0-based: this rank's micro-batches, the gradients summed over the ranks, the
         * update through {@link TrainingRun#update}; its log fields are put into {@code entry} (which holds
         * {@code "step"} already; {@link TrainingRun#tokensAfter} gives the {@code "tokens"} figure).
         */
        void step(int step, ObjectNode entry) throws IOException;

        /** Held-out figures of the current weights, put into {@code entry} (validation steps only). */
        void validate(ObjectNode entry);

        /** Writes the task's files of a checkpoint into {@code state}, the new {@code train_state/} being built. */
        void save(Path state) throws IOException;

        /** After a checkpoint: the run directory's own files (latest weights, charts drawn from {@code log}). */
        void checkpointed(TrainLog log) throws IOException;

        /** A short account of the step for the progress bar and progress lines ("loss 4.12  lr 3.0e-03"). */
        String summary(ObjectNode entry);
    }

    /**
     * The outcome of an update: the gradient norm before clipping, or the reason it was skipped.
     *
     * @param gradNorm global gradient norm (NaN when skipped)
     * @param skipped  null when applied; otherwise why no update was applied
     */
    public record Update(double gradNorm, String skipped) {

        /** {@code "grad_norm"}, or {@code "skipped"} when no update was applied (the norm is then not a number). */
        public void logNormOrSkip(ObjectNode entry) {
            if (skipped == null) {
                entry.put("grad_norm", gradNorm);
            } else {
                entry.put("skipped", skipped);
            }
        }

        /** {@code "skipped"} when no update was applied. */
        public void logSkip(ObjectNode entry) {
            if (skipped != null) {
                entry.put("skipped", skipped);
            }
        }
    }

    /** The optimizer steps of one update; each returns its gradient norm, or throws on a non-finite gradient. */
    @FunctionalInterface
    public interface Apply {
        double run() throws NonFiniteGradientException;
    }

    private final Path out;
    private final Plan plan;
    private final Communicator comm;
    private final PrintStream console;
    private final RunDirectory dir;
    private final TrainLog log;
    private final int start, end;
    private final boolean resumed;
    private final JsonNode savedState;
    private IntConsumer stepListener = s -> { };
    private ObjectNode runInfo;
    private int skipped;       // consecutive steps skipped for non-finite gradients

    private TrainingRun(Path out, Plan plan, Communicator comm, PrintStream console, RunDirectory dir, TrainLog log,
                        int start, int end, boolean resumed, JsonNode savedState) {
        this.out = out;
        this.plan = plan;
        this.comm = comm;
        this.console = console;
        this.dir = dir;
        this.log = log;
        this.start = start;
        this.end = end;
        this.resumed = resumed;
        this.savedState = savedState;
    }

    /**
     * Opens the run in {@code out}: a new one, or with {@code resume} the continuation of its last checkpoint, which
     * must have been made with settings equal to {@code plan.config()}. The run ends after {@code stopAfter} steps
     * when that is positive (a simulated kill), otherwise at {@code plan.totalSteps()}.
     */
    public static TrainingRun open(Path out, Plan plan, boolean resume, int stopAfter, Communicator comm, PrintStream console)
            throws IOException {
        if (plan.accumulation() % comm.size() != 0) {
            throw new IllegalArgumentException("--accumulation " + plan.accumulation() + " is not a multiple of the "
                    + comm.size() + " ranks (each rank computes every " + comm.size() + "th micro-batch of a step)");
        }
        // rank 0 holds the run directory (its lock, a killed writer's leftovers removed); the others only read it
        RunDirectory dir = comm.isRoot() ? RunDirectory.open(out) : null;
        comm.barrier();
        try {
            int start = 0;
            JsonNode state = null;
            if (resume) {
                if (!RunDirectory.hasState(out)) {
                    throw new IOException(out + ": nothing to resume (no " + RunDirectory.STATE_DIR + "/)");
                }
                state = ConfigJson.MAPPER.readTree(RunDirectory.state(out).resolve("state.json").toFile());
                Object saved = savedConfig(out, state, plan.config().getClass());
                if (!saved.equals(plan.config())) {
                    throw new IllegalArgumentException(out + ": --resume with settings that differ from the run's: " + saved
                            + " vs " + plan.config());
                }
                start = state.get("step").asInt();
                console.printf("resuming %s at step %d of %d%n", out, start, plan.totalSteps());
            } else if (RunDirectory.hasState(out)) {
                throw new IllegalArgumentException(out + " holds a " + plan.name() + " run already; pass --resume to continue "
                        + "it or choose another --out");
            }
            TrainLog log = comm.isRoot() ? dir.log(start) : null;
            int end = stopAfter > 0 ? Math.min(plan.totalSteps(), stopAfter) : plan.totalSteps();
            return new TrainingRun(out, plan, comm, console, dir, log, start, end, resume, state);
        } catch (IOException | RuntimeException e) {
            if (dir != null) {
                dir.close();
            }
            throw e;
        }
    }

    private static Object savedConfig(Path out, JsonNode state, Class<?> type) throws IOException {
        try {
            return ConfigJson.MAPPER.treeToValue(state.get("config"), type);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(out.resolve(RunDirectory.STATE_DIR).resolve("state.json") + ": settings not readable as "
                    + type.getSimpleName() + " (written by another version of nestlm?): " + e.getOriginalMessage(), e);
        }
    }

    /** Called after every optimizer step with the number of steps done (progress reporting, tests). */
    public TrainingRun onStep(IntConsumer listener) {
        this.stepListener = listener;
        return this;
    }

    /** Extra facts stored under {@code "run"} in {@code state.json} (rank 0's; null: none). */
    public TrainingRun withRunInfo(ObjectNode info) {
        this.runInfo = info;
        return this;
    }

    /** Whether this run continues a checkpoint (its files are in {@link #stateDir}). */
    public boolean resumed() {
        return resumed;
    }

    /** {@code train_state/}: the last checkpoint's files. */
    public Path stateDir() {
        return RunDirectory.state(out);
    }

    /** The saved {@code state.json} of a resumed run (null for a new one). */
    public JsonNode savedState() {
        return savedState;
    }

    public Path out() {
        return out;
    }

    /** The first step this invocation computes (0-based): 0, or the resumed checkpoint's step. */
    public int startStep() {
        return start;
    }

    /** The number of steps done when this invocation ends. */
    public int endStep() {
        return end;
    }

    public Communicator comm() {
        return comm;
    }

    public PrintStream console() {
        return console;
    }

    /** Training tokens seen after {@code steps} optimizer steps. */
    public long tokensAfter(int steps) {
        return plan.tokensAfter().applyAsLong(steps);
    }

    /** Every rank must start from the same settings, data, steps and weights ({@link RunFingerprint}). */
    public void requireSameOnEveryRank(NemotronH model, TokenSource... data) {
        comm.requireSame("the run's settings, data, steps and weights",
                RunFingerprint.of(plan.config(), model, start, end, data));
    }

    /**
     * Applies one update. A non-finite gradient (a rare overflow) skips the step, as mixed-precision trainers do:
     * {@code discard} drops the accumulated gradients and a warning is printed; more than {@link #MAX_SKIPPED_STEPS}
     * skipped steps in a row end the run as diverged.
     *
     * @param step the step being computed (0-based)
     */
    public Update update(int step, Apply apply, Runnable discard) {
        try {
            double norm = apply.run();
            skipped = 0;
            return new Update(norm, null);
        } catch (NonFiniteGradientException e) {
            discard.run();
            if (++skipped > MAX_SKIPPED_STEPS) {
                throw new IllegalStateException(plan.name() + " diverged at step " + (step + 1) + ": " + e.getMessage()
                        + " for " + skipped + " steps in a row; " + plan.remedy(), e);
            }
            console.printf(Locale.ROOT, "warning: step %d skipped: %s%n", step + 1, e.getMessage());
            return new Update(Double.NaN, e.getMessage());
        }
    }

    /** The error of a run whose loss left the numbers at {@code step} (0-based). */
    public IllegalStateException diverged(int step, String what) {
        return new IllegalStateException(plan.name() + " diverged at step " + (step + 1) + " (" + what + "); " + plan.remedy());
    }

    /** Runs steps {@link #startStep} to {@link #endStep} of {@code task}. */
    public void loop(Task task) throws IOException {
        Cadence cadence = plan.cadence();
        int total = plan.totalSteps();
        try (ProgressBar bar = progressBar()) {
            long started = System.nanoTime();
            for (int step = start; step < end; step++) {
                int done = step + 1;
                ObjectNode entry = ConfigJson.MAPPER.createObjectNode().put("step", done);
                task.step(step, entry);
                double elapsed = (System.nanoTime() - started) / 1e9;
                double tps = (tokensAfter(done) - tokensAfter(start)) / Math.max(elapsed, 1e-9);
                entry.put("tokens_per_s", Math.round(tps));
                if (done % cadence.evalEvery() == 0 || done == total) {
                    task.validate(entry);
                }
                if (comm.isRoot()) {
                    log.append(entry);
                }
                stepListener.accept(done);
                if (bar != null) {
                    bar.stepTo(tokensAfter(done));
                    bar.setExtraMessage(task.summary(entry));
                } else if (done % Math.max(1, plan.printEvery()) == 0 || done == end) {
                    console.printf(Locale.ROOT, "step %d/%d  tokens %d  %s  %.0f tok/s%n", done, total, tokensAfter(done),
                            task.summary(entry), tps);
                }
                if (comm.isRoot() && (done % cadence.checkpointEvery() == 0 || done == end)) {
                    checkpoint(task, done);
                }
            }
        }
    }

    private void checkpoint(Task task, int done) throws IOException {
        RunDirectory.save(out, tmp -> {
            task.save(tmp);
            ObjectNode s = ConfigJson.MAPPER.createObjectNode();
            s.put("step", done);
            s.put("tokens", tokensAfter(done));
            s.set("config", ConfigJson.MAPPER.valueToTree(plan.config()));
            if (runInfo != null) {
                s.set("run", runInfo);
            }
            AtomicFiles.writeString(tmp.resolve("state.json"), ConfigJson.MAPPER.writeValueAsString(s));
        });
        task.checkpointed(log);
    }

    /** A bar of tokens (with tokens/s and the time left) on an interactive terminal; progress lines otherwise. */
    private ProgressBar progressBar() {
        if (System.console() == null || !System.console().isTerminal()) {
            return null;
        }
        return new ProgressBarBuilder().setTaskName(plan.name()).setInitialMax(tokensAfter(plan.totalSteps()))
                .setUnit(" tok", 1).showSpeed().setStyle(ProgressBarStyle.COLORFUL_UNICODE_BAR)
                .startsFrom(tokensAfter(start), java.time.Duration.ZERO).build();
    }

    /** Releases the run directory (rank 0's lock). */
    @Override
    public void close() throws IOException {
        if (dir != null) {
            dir.close();
        }
    }
}
