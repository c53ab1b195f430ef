package org.nestlm.demo;

import java.util.List;
import java.util.Locale;

/**
 * One measurement repeated over seeds: mean, sample standard deviation and the 95 % confidence interval of the mean
 * (Student's t with n − 1 degrees of freedom). With one seed the deviation and the interval are undefined (NaN).
 *
 * @param values the measurement of every seed, in seed order
 */
public record SeedStats(List<Double> values) {

    /** Two-sided 95 % quantiles of Student's t for 1..10 degrees of freedom. */
    private static final double[] T95 = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228};

    public SeedStats {
        if (values.isEmpty()) {
            throw new IllegalArgumentException("no values");
        }
        values = List.copyOf(values);
    }

    public static SeedStats of(double... v) {
        return new SeedStats(java.util.Arrays.stream(v).boxed().toList());
    }

    public int n() {
        return values.size();
    }

    public double mean() {
        return values.stream().mapToDouble(Double::doubleValue).sum() / n();
    }

    /** Sample standard deviation (n − 1 in the denominator). */
    public double sd() {
        if (n() < 2) {
            return Double.NaN;
        }
        double m = mean(), ss = 0;
        for (double v : values) {
            ss += (v - m) * (v - m);
        }
        return Math.sqrt(ss / (n() - 1));
    }

    /** Half-width of the 95 % interval of the mean: t(0.975, n − 1) · sd / √n. */
    public double halfWidth() {
        return n() < 2 ? Double.NaN : t95(n() - 1) * sd() / Math.sqrt(n());
    }

    public double low() {
        return mean() - halfWidth();
    }

    public double high() {
        return mean() + halfWidth();
    }

    /** Element-wise difference {@code this − other} of two measurements over the same seeds (a paired comparison). */
    public SeedStats minus(SeedStats other) {
        if (other.n() != n()) {
            throw new IllegalArgumentException(n() + " values against " + other.n());
        }
        return new SeedStats(java.util.stream.IntStream.range(0, n()).mapToObj(i -> values.get(i) - other.values.get(i)).toList());
    }

    /** {@code 3.4975}, or {@code 3.4975 ± 0.0123} over several seeds. */
    public String format() {
        return n() < 2 ? String.format(Locale.ROOT, "%.4f", mean())
                : String.format(Locale.ROOT, "%.4f ± %.4f", mean(), sd());
    }

    /** {@code [3.4621, 3.5329]}, or {@code –} for one seed. */
    public String interval() {
        return n() < 2 ? "–" : String.format(Locale.ROOT, "[%.4f, %.4f]", low(), high());
    }

    /** t(0.975, df): tabulated to 10, then the Cornish–Fisher expansion around the normal quantile (error < 0.001). */
    static double t95(int df) {
        if (df < 1) {
            throw new IllegalArgumentException("degrees of freedom " + df);
        }
        if (df <= T95.length) {
            return T95[df - 1];
        }
        double z = 1.959964, z3 = z * z * z, z5 = z3 * z * z;
        return z + (z3 + z) / (4.0 * df) + (5 * z5 + 16 * z3 + 3 * z) / (96.0 * df * df);
    }
}
