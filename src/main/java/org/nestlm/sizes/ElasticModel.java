package org.nestlm.sizes;

import org.nestlm.model.Checkpoint;
import org.nestlm.io.CheckpointFormatException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The nested sizes of one checkpoint, and the one place where a budget or limits become a size
 * ({@link TrainedBudget}): score, eval, generate, chat, slice, serve, bench, the demo and the library API all resolve
 * through it, and pass the resolved size on as an object.
 *
 * <p>A budget resolves to the sub-model stored for a trained budget with the same parameter target; else to the full
 * model for 100 %; else, in the trained range, by interpolating the router's one-hot input between the two
 * neighbouring trained budgets (as Megatron-LM's router does) and taking the router's most likely sub-model within
 * {@link #RESOLVE_TOLERANCE} of the target ({@link Resolution}). Limits select the largest size that meets them
 * ({@link SizeSelector}). A plain checkpoint (no elastic.json) has one size, the full model. The router is evaluated
 * in plain Java ({@link RouterInference}): nothing here loads libtorch.
 */
public final class ElasticModel implements AutoCloseable {

    /** Interpolated budgets resolve within ±2 % of their target, as trained ones do. */
    static final double RESOLVE_TOLERANCE = 0.02;

    private final Checkpoint checkpoint;
    private final boolean ownsCheckpoint;
    private final ElasticJson.Metadata metadata;   // null: a plain checkpoint
    private final RouterInference router;          // null: a plain checkpoint
    private SizeSelector selector;                 // made on the first selection by limits; it caches what it resolved

    private ElasticModel(Checkpoint checkpoint, boolean ownsCheckpoint, ElasticJson.Metadata metadata, RouterInference router) {
        this.checkpoint = checkpoint;
        this.ownsCheckpoint = ownsCheckpoint;
        this.metadata = metadata;
        this.router = router;
    }

    /**
     * Opens an elastic checkpoint on its own mapping, closed with this.
     *
     * @throws java.nio.file.NoSuchFileException naming elastic.json when {@code dir} is not elastic
     */
    public static ElasticModel open(Path dir) throws IOException {
        Checkpoint ckpt = Checkpoint.open(dir);
        try {
            ElasticModel m = of(ckpt);
            if (!m.isElastic()) {
                ElasticJson.read(dir, ckpt.architecture());   // throws, naming elastic.json
            }
            return new ElasticModel(ckpt, true, m.metadata, m.router);
        } catch (IOException | RuntimeException e) {
            ckpt.close();
            throw e;
        }
    }

    /**
     * The sizes of an open checkpoint, elastic or plain, on its mapping (which the caller keeps and closes: closing
     * this closes nothing).
     *
     * @throws IOException naming elastic.json or the router weights when they are invalid
     */
    public static ElasticModel of(Checkpoint ckpt) throws IOException {
        Path dir = ckpt.dir();
        if (!ElasticBudgets.isElastic(dir)) {
            return new ElasticModel(ckpt, false, null, null);
        }
        ElasticJson.Metadata meta = ElasticJson.read(dir, ckpt.architecture());
        RouterInference r;
        try {
            r = new RouterInference(meta.space(), meta.routerBudgets().size(), meta.routerWidth(), meta.routerWeights());
        } catch (IllegalArgumentException e) {
            throw new CheckpointFormatException(dir.resolve(ElasticJson.ROUTER_FILE), e.getMessage()
                    + " for the candidates of " + ElasticJson.FILE_NAME, e);
        }
        return new ElasticModel(ckpt, false, meta, r);
    }

    public Checkpoint checkpoint() {
        return checkpoint;
    }

    /** True when the checkpoint holds nested sizes (elastic.json). */
    public boolean isElastic() {
        return metadata != null;
    }

    /** Everything in elastic.json; null for a plain checkpoint. */
    public ElasticJson.Metadata metadata() {
        return metadata;
    }

    /** The trained budgets as stored; empty for a plain checkpoint. */
    public List<TrainedBudget> trainedBudgets() {
        return metadata == null ? List.of() : metadata.budgets();
    }

    /** The full model as a size, labelled {@code text}. */
    public TrainedBudget full(String text) {
        long full = fullParameters();
        return new TrainedBudget(text, full, Subnet.full(checkpoint.architecture()), full, false);
    }

    /**
     * The size a budget text selects ({@link Budget#parse}, then {@link #resolve(Budget)}).
     *
     * @throws IllegalArgumentException naming the budget when it is malformed or out of range
     * @throws NotElasticException      for a nested budget of a plain checkpoint
     */
    public TrainedBudget resolve(String budget) {
        return resolve(Budget.parse(budget));
    }

    /**
     * The nested sub-model for a budget: stored for trained budgets (matched by parameter target), the full
     * model for 100 %, interpolated otherwise.
     *
     * @throws IllegalArgumentException for budgets outside the trained range, naming the range
     * @throws NotElasticException      for a nested budget of a plain checkpoint
     */
    public synchronized TrainedBudget resolve(Budget budget) {
        long full = fullParameters();
        long target = budget.target(full);
        for (TrainedBudget t : trainedBudgets()) {
            if (t.target() == target) {
                return t;
            }
        }
        if (target == full) {
            return full(budget.text());
        }
        if (metadata == null) {
            throw new NotElasticException(checkpoint.dir().resolve(ElasticJson.FILE_NAME), budget.text());
        }
        double f = (double) target / full;
        double[] fr = metadata.routerFractions();   // largest first
        double lo = fr[fr.length - 1], hi = fr[0];
        if (f < lo - 1e-9 || f > hi + 1e-9) {
            throw new IllegalArgumentException("budget " + budget.text() + " (" + String.format("%.3f", f)
                    + " of the full model) is outside the trained range " + lo + " … " + hi);
        }
        Subnet s = metadata.space().subnet(router.resolve(interpolatedInput(fr, f), target, RESOLVE_TOLERANCE));
        return new TrainedBudget(budget.text(), target, s, s.parameterCount(checkpoint.config()), false);
    }

    /**
     * The largest size that meets {@code c} ({@link SizeSelector}); a plain checkpoint's full model when it fits.
     *
     * @throws IllegalArgumentException when no size fits, naming the smallest size and what it breaks
     */
    public synchronized SizeChoice select(SizeConstraints c) {
        if (metadata == null) {
            SizeChoice only = figures(full("100%"), c);
            if (!c.fits(only)) {
                throw new IllegalArgumentException("no size fits: " + checkpoint.dir().toAbsolutePath().normalize().getFileName()
                        + " is not elastic and its only size breaks " + String.join(" and ", c.violations(only)));
            }
            return only;
        }
        if (selector == null) {
            selector = new SizeSelector(this);
        }
        return selector.select(c);
    }

    /** The figures of one size under {@code c}'s memory model and latency profile. */
    public SizeChoice figures(TrainedBudget t, SizeConstraints c) {
        double ms = c.latency() == null || c.latency().points().isEmpty() ? Double.NaN
                : c.latency().estimateMs(t.parameters(), c.threads());
        return new SizeChoice(t, kindOf(t), c.memory().of(t.subnet(), checkpoint.config()), ms);
    }

    /** Exact parameter count of the full model. */
    public long fullParameters() {
        return checkpoint.architecture().parameterCount();
    }

    /** The smallest trained fraction: the low end of the range interpolation serves. */
    public double minTrainedFraction() {
        double[] fr = requireElastic().routerFractions();
        return fr[fr.length - 1];
    }

    /** The largest trained fraction: the high end of the range interpolation serves. */
    public double maxTrainedFraction() {
        return requireElastic().routerFractions()[0];
    }

    /**
     * The fixed sizes: the full model and every trained budget, largest first, one per distinct sub-model (a
     * trained 100 % budget is the full model).
     */
    public List<TrainedBudget> fixedSizes() {
        List<TrainedBudget> out = new ArrayList<>();
        out.add(resolve(Budget.parse("100%")));
        for (TrainedBudget t : trainedBudgets()) {
            if (out.stream().noneMatch(o -> o.subnet().equals(t.subnet()))) {
                out.add(t);
            }
        }
        out.sort(Comparator.comparingLong(TrainedBudget::parameters).reversed());
        return out;
    }

    /** Whether {@code b} is the full model, a trained budget or an interpolated one. */
    public SizeChoice.Kind kindOf(TrainedBudget b) {
        if (b.subnet().equals(Subnet.full(checkpoint.architecture()))) {
            return SizeChoice.Kind.FULL;
        }
        for (TrainedBudget t : trainedBudgets()) {
            if (t.target() == b.target() && t.subnet().equals(b.subnet())) {
                return SizeChoice.Kind.TRAINED;
            }
        }
        return SizeChoice.Kind.INTERPOLATED;
    }

    /**
     * {@code n} budgets evenly spaced strictly inside the trained range, resolved through the router: fractions
     * {@code lo + (hi − lo)·k/(n+1)}, k = 1…n, labelled as percentages with two decimals ({@code "54.17%"}), so
     * that passing a label back as a budget ({@code --budget 54.17%}, {@link #resolve}) gives the same sub-model.
     * For plots of loss against parameters between the trained sizes. A point that falls on a trained
     * fraction between the two ends resolves to that trained budget (its {@code trained()} is then true).
     *
     * @throws IllegalArgumentException for n &lt; 1, or when fewer than two budgets were trained (no range)
     */
    public List<TrainedBudget> interpolatedBudgets(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("need at least 1 interpolated budget, got " + n);
        }
        double lo = minTrainedFraction(), hi = maxTrainedFraction();
        if (!(hi > lo)) {
            throw new IllegalArgumentException("only one trained budget (" + lo + "): there is no range to interpolate in");
        }
        List<TrainedBudget> out = new ArrayList<>();
        for (int k = 1; k <= n; k++) {
            out.add(resolve(Budget.parse(percent(lo + (hi - lo) * k / (n + 1), 2))));
        }
        return out;
    }

    /** A fraction as a percentage budget text with at most {@code decimals} decimals: 0.54166 → "54.17%". */
    public static String percent(double fraction, int decimals) {
        String s = String.format(Locale.ROOT, "%." + decimals + "f", 100 * fraction);
        if (s.contains(".")) {
            s = s.replaceAll("0+$", "").replaceAll("\\.$", "");
        }
        return s + "%";
    }

    /**
     * Router input for fraction {@code f}: the one-hot of a trained budget, or the linear blend of the one-hots
     * of the two trained budgets around it.
     */
    static float[] interpolatedInput(double[] fractions, double f) {
        float[] u = new float[fractions.length];
        for (int i = 0; i < fractions.length; i++) {
            if (Math.abs(fractions[i] - f) < 1e-9) {
                u[i] = 1f;
                return u;
            }
        }
        for (int i = 0; i + 1 < fractions.length; i++) {
            double hi = fractions[i], lo = fractions[i + 1];
            if (f < hi && f > lo) {
                float w = (float) ((f - lo) / (hi - lo));
                u[i] = w;
                u[i + 1] = 1 - w;
                return u;
            }
        }
        throw new IllegalArgumentException("fraction " + f + " outside the trained budgets");
    }

    private ElasticJson.Metadata requireElastic() {
        if (metadata == null) {
            throw new NotElasticException(checkpoint.dir().resolve(ElasticJson.FILE_NAME), null);
        }
        return metadata;
    }

    /** Closes the checkpoint when {@link #open} mapped it. */
    @Override
    public void close() {
        if (ownsCheckpoint) {
            checkpoint.close();
        }
    }
}
