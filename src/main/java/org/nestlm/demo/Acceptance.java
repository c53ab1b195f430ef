package org.nestlm.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The acceptance checks on the demo's measurements: every nested size of the one elastic run has lower
 * held-out loss than baseline (a), the cut with no training; each is within 5 % of baseline (b), distilled alone;
 * and the elastic run spent fewer tokens than (b) spent for the whole family. Over several seeds each check is made on
 * the means, and its text gives the 95 % interval (of the paired difference against (a), of each mean against (b)),
 * saying whether the verdict holds beyond the seed-to-seed spread.
 */
public final class Acceptance {

    /** Relative tolerance against baseline (b). */
    public static final double TOLERANCE = 0.05;

    /** One check with its measured values and verdict. */
    public record Check(String text, boolean pass) {
    }

    /** Held-out losses of one derived size, per seed (the same seeds, in the same order, for every method). */
    public record Size(String budget, SeedStats elastic, SeedStats cut, SeedStats minitron, SeedStats scratch) {

        /** One seed. */
        public static Size single(String budget, double elastic, double cut, double minitron, double scratch) {
            return new Size(budget, SeedStats.of(elastic), SeedStats.of(cut), SeedStats.of(minitron), SeedStats.of(scratch));
        }
    }

    private Acceptance() {
    }

    public static List<Check> evaluate(List<Size> sizes, FamilyCost cost) {
        List<Check> out = new ArrayList<>();
        for (Size s : sizes) {
            SeedStats d = s.elastic().minus(s.cut());
            String noise = d.n() < 2 ? "" : String.format(Locale.ROOT, "; difference %+.4f, 95 %% interval [%+.4f, %+.4f], %s",
                    d.mean(), d.low(), d.high(), d.high() < 0 ? "beyond the seed noise" : "within the seed noise");
            out.add(new Check(String.format(Locale.ROOT, "budget %s: elastic %s < (a) cut %s%s", s.budget(), s.elastic().format(),
                    s.cut().format(), noise), d.mean() < 0));
        }
        for (Size s : sizes) {
            double rel = s.elastic().mean() / s.minitron().mean() - 1;
            String noise = s.elastic().n() < 2 ? "" : String.format(Locale.ROOT, "; 95 %% intervals %s and %s",
                    s.elastic().interval(), s.minitron().interval());
            out.add(new Check(String.format(Locale.ROOT, "budget %s: elastic %s within 5 %% of (b) Minitron-style %s (%+.2f %%%s)",
                    s.budget(), s.elastic().format(), s.minitron().format(), 100 * rel, noise), rel <= TOLERANCE));
        }
        out.add(new Check(String.format(Locale.ROOT, "tokens: elastic run %,d < (b) for the family %,d (%.2f×)", cost.elastic(),
                cost.minitron(), (double) cost.minitron() / cost.elastic()), cost.elastic() < cost.minitron()));
        return out;
    }

    public static boolean all(List<Check> checks) {
        return checks.stream().allMatch(Check::pass);
    }
}
