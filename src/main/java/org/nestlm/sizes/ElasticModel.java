package org.nestlm.sizes;

import org.nestlm.io.Checkpoint;
import org.nestlm.io.CheckpointFormatException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * An elastic checkpoint opened for use: the permuted full weights, {@code elastic.json} and the router.
 * Resolves any budget to a nested {@link Subnet}: a trained budget to the sub-model stored for it; an
 * untrained one in range by interpolating the router's one-hot input between the two neighbouring trained
 * budgets (as Megatron-LM's router does), then taking the argmax on every axis. The router is evaluated in plain
 * Java ({@link RouterInference}): opening an elastic checkpoint for inference loads no libtorch.
 */
public final class ElasticModel implements AutoCloseable {

    /** Interpolated budgets resolve within ±2 % of their target, as trained ones do. */
    static final double RESOLVE_TOLERANCE = 0.02;

    private final Checkpoint checkpoint;
    private final ElasticJson.Metadata metadata;
    private final RouterInference router;

    private ElasticModel(Checkpoint checkpoint, ElasticJson.Metadata metadata, RouterInference router) {
        this.checkpoint = checkpoint;
        this.metadata = metadata;
        this.router = router;
    }

    public static ElasticModel open(Path dir) throws IOException {
        Checkpoint ckpt = Checkpoint.open(dir);
        try {
            ElasticJson.Metadata meta = ElasticJson.read(dir, ckpt.architecture());
            RouterInference r;
            try {
                r = new RouterInference(meta.space(), meta.routerBudgets().size(), meta.routerWidth(), meta.routerWeights());
            } catch (IllegalArgumentException e) {
                throw new CheckpointFormatException(dir.resolve(ElasticJson.ROUTER_FILE), e.getMessage()
                        + " for the candidates of " + ElasticJson.FILE_NAME, e);
            }
            return new ElasticModel(ckpt, meta, r);
        } catch (IOException | RuntimeException e) {
            ckpt.close();
            throw e;
        }
    }

    public Checkpoint checkpoint() {
        return checkpoint;
    }

    public ElasticJson.Metadata metadata() {
        return metadata;
    }

    public List<TrainedBudget> trainedBudgets() {
        return metadata.budgets();
    }

    /**
     * The nested sub-model for a budget: stored for trained budgets (matched by parameter target), the full
     * model for 100 %, interpolated otherwise.
     *
     * @throws IllegalArgumentException for budgets outside the trained range, naming the range
     */
    public synchronized TrainedBudget resolve(Budget budget) {
        long full = checkpoint.architecture().parameterCount();
        long target = budget.target(full);
        for (TrainedBudget t : metadata.budgets()) {
            if (t.target() == target) {
                return t;
            }
        }
        if (target == full) {
            Subnet s = Subnet.full(checkpoint.architecture());
            return new TrainedBudget(budget.text(), target, s, full, false);
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

    /** Exact parameter count of the full model. */
    public long fullParameters() {
        return checkpoint.architecture().parameterCount();
    }

    /** The smallest trained fraction: the low end of the range interpolation serves. */
    public double minTrainedFraction() {
        double[] fr = metadata.routerFractions();
        return fr[fr.length - 1];
    }

    /** The largest trained fraction: the high end of the range interpolation serves. */
    public double maxTrainedFraction() {
        return metadata.routerFractions()[0];
    }

    /**
     * The fixed sizes: the full model and every trained budget, largest first, one per distinct sub-model (a
     * trained 100 % budget is the full model).
     */
    public List<TrainedBudget> fixedSizes() {
        List<TrainedBudget> out = new ArrayList<>();
        out.add(resolve(Budget.parse("100%")));
        for (TrainedBudget t : metadata.budgets()) {
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
        for (TrainedBudget t : metadata.budgets()) {
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

    @Override
    public void close() {
        checkpoint.close();
    }
}
