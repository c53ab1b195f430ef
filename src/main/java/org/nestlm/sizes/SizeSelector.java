package org.nestlm.sizes;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Picks the largest sub-model of an elastic checkpoint that meets {@link SizeConstraints}, among the full model,
 * the trained budgets and budgets interpolated by the router anywhere between the smallest and the largest
 * trained fraction.
 *
 * <p>The router is not guaranteed to be monotone in its input, so the search does not bisect blindly: it
 * resolves every whole percent of the trained range ({@link #GRID_DECIMALS}), keeps the largest that fits, then
 * resolves every tenth of a percent between it and the next larger candidate ({@link #FINE_DECIMALS}) and keeps
 * the largest fitting of all. Every candidate's label is a percentage that resolves to the same sub-model when
 * given back as a budget, so a selection can be replayed with {@code --budget}. Ties go to the candidate found
 * first: the full model, then trained budgets, then interpolated ones.
 */
public final class SizeSelector {

    /** Percent decimals of the coarse grid (every 1 %) and of the refinement (every 0.1 %). */
    static final int GRID_DECIMALS = 0, FINE_DECIMALS = 1;

    private final ElasticModel model;
    private final Map<String, TrainedBudget> resolved = new LinkedHashMap<>();   // label → size, in search order

    public SizeSelector(ElasticModel model) {
        this.model = model;
    }

    /**
     * The largest size that meets {@code c}.
     *
     * @throws IllegalArgumentException when none does, naming the smallest size and the figures that break the limits
     */
    public SizeChoice select(SizeConstraints c) {
        List<SizeChoice> all = new ArrayList<>();
        for (TrainedBudget t : model.fixedSizes()) {
            all.add(figures(t, c));
        }
        for (TrainedBudget t : grid(GRID_DECIMALS, model.minTrainedFraction(), model.maxTrainedFraction())) {
            all.add(figures(t, c));
        }
        SizeChoice best = largestFitting(all, c);
        if (best == null) {
            SizeChoice smallest = all.getFirst();
            for (SizeChoice s : all) {
                if (s.size().parameters() < smallest.size().parameters()) {
                    smallest = s;
                }
            }
            throw new IllegalArgumentException("no size fits: the smallest, " + smallest.size().budget() + " ("
                    + String.format(Locale.ROOT, "%,d", smallest.size().parameters()) + " parameters), breaks "
                    + String.join(" and ", c.violations(smallest)));
        }
        // refine between the best and the next larger candidate that does not fit
        double full = model.fullParameters();
        double from = best.size().target() / full, to = model.maxTrainedFraction();
        for (SizeChoice s : all) {
            double f = s.size().target() / full;
            if (f > from && f < to && !c.fits(s)) {
                to = f;
            }
        }
        if (to > from) {
            for (TrainedBudget t : grid(FINE_DECIMALS, from, to)) {
                all.add(figures(t, c));
            }
            best = largestFitting(all, c);
        }
        return best;
    }

    /** The figures of one size under {@code c}'s memory model and latency profile. */
    public SizeChoice figures(TrainedBudget t, SizeConstraints c) {
        return model.figures(t, c);
    }

    /** Every size the search has resolved so far, by label. */
    public Map<String, TrainedBudget> resolved() {
        return resolved;
    }

    private static SizeChoice largestFitting(List<SizeChoice> all, SizeConstraints c) {
        SizeChoice best = null;
        for (SizeChoice s : all) {
            if (c.fits(s) && (best == null || s.size().parameters() > best.size().parameters())) {
                best = s;
            }
        }
        return best;
    }

    /** Budgets at every step of {@code decimals} percent strictly between {@code from} and {@code to} (inclusive of the trained range ends only). */
    private List<TrainedBudget> grid(int decimals, double from, double to) {
        double lo = model.minTrainedFraction(), hi = model.maxTrainedFraction();
        double scale = Math.pow(10, decimals + 2);   // fraction units per step
        List<TrainedBudget> out = new ArrayList<>();
        for (long k = (long) Math.ceil(from * scale - 1e-9); k <= (long) Math.floor(to * scale + 1e-9); k++) {
            double f = k / scale;
            if (f < lo - 1e-12 || f > hi + 1e-12) {
                continue;
            }
            String label = ElasticModel.percent(f, decimals);
            TrainedBudget t = resolved.get(label);
            if (t == null) {
                t = model.resolve(Budget.parse(label));
                resolved.put(label, t);
            }
            out.add(t);
        }
        return out;
    }
}
