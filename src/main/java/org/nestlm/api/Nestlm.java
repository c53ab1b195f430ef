package org.nestlm.api;

import org.nestlm.sizes.ElasticJson;
import org.nestlm.sizes.ElasticModel;
import org.nestlm.sizes.LatencyProfile;
import org.nestlm.sizes.MemoryModel;
import org.nestlm.sizes.NotElasticException;
import org.nestlm.sizes.SizeConstraints;
import org.nestlm.sizes.Subnet;
import org.nestlm.sizes.TrainedBudget;
import org.nestlm.infer.Engine;
import org.nestlm.infer.Parallel;
import org.nestlm.infer.TokenText;
import org.nestlm.model.Checkpoint;
import org.nestlm.io.CheckpointFormatException;
import org.nestlm.io.DType;
import org.nestlm.model.WeightNames;
import org.nestlm.tokenizer.TextTokenizer;
import org.nestlm.util.DjlRuntime;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * An open checkpoint: a plain Nemotron-H checkpoint, or an elastic one holding nested smaller models
 * ({@code elastic.json}). It maps the weights once, owns one pool of compute threads and the tokenizer, and
 * hands out {@link TextModel}s, one per size, that all run from views of that mapping on the pure-Java engine.
 *
 * <pre>{@code
 * try (Nestlm ckpt = Nestlm.open(Path.of("my-elastic"))) {
 *     for (Size s : ckpt.sizes()) System.out.println(s.id() + " " + s.parameters());
 *     TextModel small = ckpt.model(SizeLimits.maxParams(3_000_000));
 *     System.out.println(small.generate("The cat", Sampling.greedy(20)).text());
 * }
 * }</pre>
 *
 * <p>Sizes: the full model and every trained budget ({@link #sizes()}) come from the checkpoint's files; budgets
 * between trained ones ({@link #model(String)} with {@code "60%"}) and selection by limits ({@link #select(SizeLimits)})
 * evaluate the checkpoint's router. All of it, and every size's generation, is pure Java: no libtorch is loaded.
 *
 * <p>Thread-safe: any number of threads may generate at once, on one size or several (each call has its own
 * decode state; they share the cores). {@link #close()} waits for running calls to finish and then releases the
 * mapping, the threads and the tokenizer; calls after it throw {@link IllegalStateException}. Do not close from
 * inside a {@link TokenListener}.
 */
public final class Nestlm implements AutoCloseable {

    private final Path dir;
    private final String name;
    private final Checkpoint checkpoint;
    private final Parallel parallel;
    private final TextTokenizer tokenizer;      // null: token ids only
    private final TokenText text;               // null with tokenizer
    private final ElasticJson.Metadata elastic; // null: a plain checkpoint
    private final MemoryModel memory;
    private final LatencyProfile latency;       // null: no measurements at this thread count
    private final boolean quantize;             // the full model on int8 weights
    private final Size full;
    private final Map<Subnet, Engine> engines = new HashMap<>();
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed;
    private final ElasticModel nested;          // where every budget and limit resolves (pure Java)

    private Nestlm(Path dir, Checkpoint checkpoint, Parallel parallel, TextTokenizer tokenizer,
                   ElasticModel nested, MemoryModel memory, LatencyProfile latency, boolean quantize) {
        this.dir = dir;
        this.quantize = quantize;
        Path fileName = dir.toAbsolutePath().normalize().getFileName();
        this.name = fileName == null ? "model" : fileName.toString();
        this.checkpoint = checkpoint;
        this.parallel = parallel;
        this.tokenizer = tokenizer;
        this.text = tokenizer == null ? null : TokenText.of(tokenizer);
        this.nested = nested;
        this.elastic = nested.metadata();
        this.memory = memory;
        this.latency = latency;
        Subnet s = Subnet.full(checkpoint.architecture());
        this.full = describe(new TrainedBudget("100%", fullParameters(), s, fullParameters(), false), Size.Kind.FULL);
    }

    /** Opens a checkpoint directory with {@link OpenOptions#defaults()}. */
    public static Nestlm open(Path dir) throws NestlmException {
        return open(dir, OpenOptions.defaults());
    }

    /**
     * Opens a checkpoint directory: {@code config.json}, the safetensors weights, optionally {@code tokenizer.json},
     * {@code elastic.json} (nested sizes) and {@code latency.json} (decode latencies from {@code nestlm bench}).
     *
     * @throws NestlmException naming the file that is missing or invalid
     */
    public static Nestlm open(Path dir, OpenOptions options) throws NestlmException {
        DjlRuntime.configure();   // the tokenizer is DJL's: offline, no tracking
        List<AutoCloseable> opened = new ArrayList<>();
        Path at = dir;
        try {
            Checkpoint ckpt = Checkpoint.open(dir);
            opened.add(ckpt);
            Parallel parallel = new Parallel(options.resolvedThreads());
            opened.add(parallel);
            at = options.tokenizer() != null ? options.tokenizer() : ckpt.tokenizer().orElse(null);
            TextTokenizer tok = at == null ? null : TextTokenizer.load(at);
            if (tok != null) {
                opened.add(tok);
            }
            at = dir.resolve(ElasticJson.FILE_NAME);
            ElasticModel nested = ElasticModel.of(ckpt);
            at = LatencyProfile.file(dir);
            LatencyProfile profile = LatencyProfile.readOrEmpty(dir);
            if (!profile.threadCounts().contains(parallel.threads())) {
                profile = null;   // measured at other thread counts only: no estimate here
            }
            DType d = ckpt.tensor(WeightNames.embeddings()).dtype();
            MemoryModel mm = new MemoryModel(d.isFloatingPoint() && d != DType.F64 ? d : DType.F32, options.context(),
                    options.batch());
            Nestlm n = new Nestlm(dir, ckpt, parallel, tok, nested, mm, profile, options.quantize());
            n.engine(Subnet.full(ckpt.architecture()));   // the full model's weights load now: faults surface here
            return n;
        } catch (NestlmException e) {
            closeAll(opened);
            throw e;
        } catch (CheckpointFormatException e) {
            closeAll(opened);
            throw NestlmException.inFile(e.file() != null ? e.file() : dir, e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            closeAll(opened);
            String msg = e.getMessage() == null ? e.toString() : e.getMessage();
            Path file = at == null ? dir : at;
            throw NestlmException.inFile(file, msg.contains(file.toString()) ? msg : file + ": " + msg, e);
        }
    }

    /** The checkpoint directory's name: the id of the full model. */
    public String name() {
        return name;
    }

    public Path directory() {
        return dir;
    }

    /** True when the checkpoint holds nested sizes ({@code elastic.json}). */
    public boolean isElastic() {
        return elastic != null;
    }

    /** True when text can be encoded ({@code tokenizer.json}); otherwise models run on token ids only. */
    public boolean hasTokenizer() {
        return text != null;
    }

    /** Compute threads shared by every size. */
    public int threads() {
        return parallel.threads();
    }

    /**
     * The fixed sizes: the full model and every trained budget, largest first, one per distinct sub-model. Reads
     * only the checkpoint's own files.
     */
    public List<Size> sizes() {
        ensureOpen();
        List<Size> out = new ArrayList<>();
        out.add(full);
        if (elastic != null) {
            List<Subnet> seen = new ArrayList<>(List.of(Subnet.full(checkpoint.architecture())));
            for (TrainedBudget t : elastic.budgets()) {
                if (!seen.contains(t.subnet())) {
                    seen.add(t.subnet());
                    out.add(describe(t, Size.Kind.TRAINED));
                }
            }
        }
        out.sort(Comparator.comparingLong(Size::parameters).reversed());
        return out;
    }

    /**
     * The fixed sizes and {@code interpolated} budgets evenly spaced strictly inside the trained range (fractions
     * {@code lo + (hi − lo)·k/(n+1)}, labelled so that passing the label back selects the same size), largest first.
     *
     * @throws NestlmException for a plain checkpoint, or an elastic one with a single trained budget (no range)
     */
    public List<Size> sizes(int interpolated) throws NestlmException {
        if (interpolated < 1) {
            throw NestlmException.badField("interpolated", "need at least 1 interpolated size, got " + interpolated);
        }
        List<Size> out = new ArrayList<>(sizes());
        for (TrainedBudget t : locked(() -> {
            try {
                return nested.interpolatedBudgets(interpolated);
            } catch (NotElasticException e) {
                throw NestlmException.inFile(e.file(), e.getMessage(), e);
            } catch (IllegalArgumentException e) {
                throw NestlmException.badField("interpolated", e.getMessage());
            }
        })) {
            if (out.stream().noneMatch(s -> s.parameters() == t.parameters() && s.budget().equals(t.budget()))) {
                out.add(describe(t, kindOf(t)));
            }
        }
        out.sort(Comparator.comparingLong(Size::parameters).reversed());
        return out;
    }

    /**
     * The size a budget selects, without opening it: {@code "100%"}, a trained budget, or (elastic checkpoints) any
     * budget in the trained range, interpolated by the router.
     *
     * @param budget a fraction ({@code "0.6"}, {@code "60%"}) or a parameter count ({@code "3M"})
     * @throws NestlmException naming {@code budget} for a malformed or out-of-range budget, or elastic.json for a
     *                         nested budget of a plain checkpoint
     */
    public Size size(String budget) throws NestlmException {
        return locked(() -> {
            TrainedBudget t = resolve(budget);
            return describe(t, kindOf(t));
        });
    }

    /**
     * The largest size that meets every given limit, among the full model, the trained budgets and budgets
     * interpolated anywhere in the trained range (every whole percent, refined to a tenth of a percent).
     *
     * @throws NestlmException naming the first limit when no size fits (the message names the smallest size and
     *                         what it breaks), or {@code max_latency_ms} without a latency measured at this thread count
     */
    public Size select(SizeLimits limits) throws NestlmException {
        if (!limits.any()) {
            ensureOpen();
            return full;
        }
        if (!Double.isNaN(limits.maxLatencyMs()) && latency == null) {
            throw NestlmException.badField("max_latency_ms", LatencyProfile.file(dir) + " has no decode latency measured at "
                    + threads() + " threads; run 'nestlm bench decode --all-sizes --threads " + threads() + "'");
        }
        return locked(() -> {
            TrainedBudget t = selected(limits);
            return describe(t, kindOf(t));
        });
    }

    /** The size {@code limits} select, resolved once (also for {@link #model(SizeLimits)}). */
    private TrainedBudget selected(SizeLimits limits) throws NestlmException {
        SizeConstraints c = new SizeConstraints(limits.maxParams(), limits.maxMemory(), limits.maxLatencyMs(), memory,
                latency, threads());
        try {
            return nested.select(c).size();
        } catch (IllegalArgumentException e) {
            throw NestlmException.badField(limits.firstField(), e.getMessage());
        }
    }

    /** The full model. */
    public TextModel model() {
        try {
            return locked(() -> new TextModel(this, full, engine(Subnet.full(checkpoint.architecture())), null, null, 0));
        } catch (NestlmException e) {
            throw new IllegalStateException(e.getMessage(), e);   // the full model's engine was loadable at open
        }
    }

    /**
     * The size {@code budget} selects ({@link #size(String)}), ready to run. Sizes are opened once and kept until
     * {@link #close()}; each is a set of views of the mapped weights.
     */
    public TextModel model(String budget) throws NestlmException {
        return locked(() -> {
            TrainedBudget t = resolve(budget);
            return new TextModel(this, describe(t, kindOf(t)), engine(t.subnet()), null, null, 0);
        });
    }

    /** The largest size under {@code limits} ({@link #select(SizeLimits)}), ready to run. */
    public TextModel model(SizeLimits limits) throws NestlmException {
        if (!limits.any()) {
            return model();
        }
        if (!Double.isNaN(limits.maxLatencyMs()) && latency == null) {
            select(limits);   // throws, naming max_latency_ms
        }
        return locked(() -> model(selected(limits)));
    }

    /**
     * A size resolved by this checkpoint's {@link #nested()} sizes, ready to run: the size travels as the object the
     * resolution made, and is not resolved again.
     */
    public TextModel model(TrainedBudget size) throws NestlmException {
        return locked(() -> {
            Size.Kind kind = kindOf(size);
            return kind == Size.Kind.FULL ? new TextModel(this, full, engine(Subnet.full(checkpoint.architecture())), null, null, 0)
                    : new TextModel(this, describe(size, kind), engine(size.subnet()), null, null, 0);
        });
    }

    /**
     * The checkpoint's nested sizes, on this checkpoint's mapping: where its budgets and limits resolve
     * ({@link ElasticModel}), for callers that choose a size with their own figures (the CLI's {@code --max-memory} at
     * another dtype) and run it with {@link #model(TrainedBudget)}.
     */
    public ElasticModel nested() {
        return nested;
    }

    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            List<AutoCloseable> all = new ArrayList<>(List.of(checkpoint, parallel));   // in opening order
            if (tokenizer != null) {
                all.add(tokenizer);
            }
            closeAll(all);
            engines.clear();
        } finally {
            lock.writeLock().unlock();
        }
    }

    // ---- for TextModel

    TokenText text() {
        return text;
    }

    /** The tokenizer file that is missing, for error messages. */
    Path tokenizerFile() {
        return dir.resolve(Checkpoint.TOKENIZER_FILE);
    }

    /** The engine of a sub-model, loaded once (views of the mapping). */
    synchronized Engine engine(Subnet s) throws NestlmException {
        Engine e = engines.get(s);
        boolean whole = s.equals(Subnet.full(checkpoint.architecture()));
        if (quantize && !whole) {
            throw NestlmException.badField("quantize", "int8 quantisation runs the whole model only: nested sizes are views "
                    + "of the mapped weights; open without quantize to run a budget or a draft");
        }
        if (e == null) {
            try {
                e = Engine.of(checkpoint, parallel, whole ? null : s, quantize);
            } catch (IOException ex) {
                throw NestlmException.inFile(dir, dir + ": " + ex.getMessage(), ex);
            }
            engines.put(s, e);
        }
        return e;
    }

    /** The engine and figures of {@code budget}, for a speculative draft. */
    TextModel draftFor(String budget) throws NestlmException {
        TrainedBudget t = resolve(budget);
        return new TextModel(this, describe(t, kindOf(t)), engine(t.subnet()), null, null, 0);
    }

    private void ensureOpen() {
        lock.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException(name + " is closed");
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Runs {@code body} while the checkpoint is open (close waits for it). */
    <T> T locked(Body<T> body) throws NestlmException {
        lock.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException(name + " is closed");
            }
            return body.call();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** A call that may fail with a {@link NestlmException}. */
    @FunctionalInterface
    interface Body<T> {
        T call() throws NestlmException;
    }

    // ---- sizes

    private long fullParameters() {
        return checkpoint.architecture().parameterCount();
    }

    /** A budget's size, resolved by {@link #nested()}. */
    private TrainedBudget resolve(String text) throws NestlmException {
        if (text == null) {
            throw NestlmException.badField("budget", "no budget given: give a fraction (0.6, 60%) or a parameter count (3M)");
        }
        try {
            return nested.resolve(text);
        } catch (NotElasticException e) {
            throw NestlmException.inFile(e.file(), e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw NestlmException.badField("budget", e.getMessage());
        }
    }

    private Size.Kind kindOf(TrainedBudget t) {
        return Size.Kind.valueOf(nested.kindOf(t).name());
    }

    private Size describe(TrainedBudget t, Size.Kind kind) {
        MemoryModel.Footprint f = memory.of(t.subnet(), checkpoint.config());
        double ms = latency == null ? Double.NaN : latency.estimateMs(t.parameters(), threads());
        String budget = kind == Size.Kind.FULL ? "100%" : t.budget();
        String id = kind == Size.Kind.FULL ? name : name + "@" + budget;
        return new Size(id, budget, kind, t.parameters(), (double) t.parameters() / fullParameters(), f.weights(),
                f.kvCache() + f.mambaState(), ms);
    }

    /** Closes in reverse order of opening. */
    private static void closeAll(List<AutoCloseable> resources) {
        for (AutoCloseable c : resources.reversed()) {
            try {
                c.close();
            } catch (Exception ignored) {
                // best effort: the others still get closed
            }
        }
    }
}
