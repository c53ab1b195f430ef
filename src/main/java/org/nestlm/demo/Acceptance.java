package org.nestlm.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The acceptance checks on the demo's measurements: every nested size of the one elastic run has lower
 * held-out loss than baseline (a), the cut with no training; each is within 5 % of baseline (b), distilled alone;
 * and the elastic run spent fewer tokens than (b) spent for the whole family.
 */
public final class Acceptance {

    /** Relative tolerance against baseline (b). */
    public static final double TOLERANCE = 0.05;

    /** One check with its measured values and verdict. */
    public record Check(String text, boolean pass) {
    }

    /** Held-out losses of one derived size. */
    public record Size(String budget, double elastic, double cut, double minitron, double scratch) {
    }

    private Acceptance() {
    }

    public static List<Check> evaluate(List<Size> sizes, FamilyCost cost) {
        List<Check> out = new ArrayList<>();
        for (Size s : sizes) {
            out.add(new Check(String.format(Locale.ROOT, "budget %s: elastic %.4f < (a) cut %.4f", s.budget(), s.elastic(), s.cut()),
                    s.elastic() < s.cut()));
        }
        for (Size s : sizes) {
            double rel = s.elastic() / s.minitron() - 1;
            out.add(new Check(String.format(Locale.ROOT, "budget %s: elastic %.4f within 5 %% of (b) Minitron-style %.4f (%+.2f %%)",
                    s.budget(), s.elastic(), s.minitron(), 100 * rel), rel <= TOLERANCE));
        }
        out.add(new Check(String.format(Locale.ROOT, "tokens: elastic run %,d < (b) for the family %,d (%.2f×)", cost.elastic(),
                cost.minitron(), (double) cost.minitron() / cost.elastic()), cost.elastic() < cost.minitron()));
        return out;
    }

    public static boolean all(List<Check> checks) {
        return checks.stream().allMatch(Check::pass);
    }
}
