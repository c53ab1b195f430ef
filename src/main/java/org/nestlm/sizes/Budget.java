package org.nestlm.sizes;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A parameter budget: a fraction of the full model ({@code 0.5}, {@code 50%}) or an absolute count
 * ({@code 3M}, {@code 1.2B}, {@code 750K}, {@code 123456}).
 *
 * @param fraction the budget as a fraction of the full model, when given as one (NaN otherwise)
 * @param absolute the budget as a parameter count, when given as one (−1 otherwise)
 * @param text     as the user wrote it
 */
public record Budget(double fraction, long absolute, String text) {

    /**
     * Plain decimal numbers only: Java's own {@code Double.parseDouble} would also take {@code 1d}, {@code 2f},
     * {@code 0x1p-1}, {@code NaN} and {@code Infinity}, none of which a user means as a budget.
     */
    private static final Pattern DECIMAL = Pattern.compile("[+]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?");

    /** @throws IllegalArgumentException naming the text */
    public static Budget parse(String text) {
        String s = text.trim().toUpperCase(Locale.ROOT);
        if (s.endsWith("%")) {
            return fraction(number(s.substring(0, s.length() - 1).trim(), text) / 100, text);
        }
        char last = s.isEmpty() ? ' ' : s.charAt(s.length() - 1);
        double scale = switch (last) {
            case 'K' -> 1e3;
            case 'M' -> 1e6;
            case 'B', 'G' -> 1e9;
            default -> 0;
        };
        if (scale > 0) {
            double count = number(s.substring(0, s.length() - 1).trim(), text) * scale;
            if (!(count >= 1) || count > Long.MAX_VALUE) {
                throw new IllegalArgumentException("budget '" + text + "' must be at least 1 parameter");
            }
            return new Budget(Double.NaN, Math.round(count), text);
        }
        double v = number(s, text);
        if (v <= 1.0) {
            return fraction(v, text);
        }
        if (v != Math.rint(v) || v > Long.MAX_VALUE) {
            // 1.5 is neither a fraction nor a whole count: most likely a fraction over the full model
            throw new IllegalArgumentException("budget '" + text + "' is neither a fraction in (0, 1] nor a whole "
                    + "parameter count; as a fraction it would be " + percent(v) + " of the full model (a budget is at"
                    + " most 100%: 0.5 or 50% is half the model, 3M three million parameters)");
        }
        return new Budget(Double.NaN, Math.round(v), text);
    }

    private static double number(String s, String text) {
        if (!DECIMAL.matcher(s).matches() || !Double.isFinite(Double.parseDouble(s))) {
            throw new IllegalArgumentException("budget '" + text
                    + "' is not a fraction (0.5, 50%) or a parameter count (3M, 1.2B, 123456)");
        }
        return Double.parseDouble(s);
    }

    private static String percent(double v) {
        return new java.math.BigDecimal(Double.toString(v * 100)).stripTrailingZeros().toPlainString() + "%";
    }

    private static Budget fraction(double f, String text) {
        if (!(f > 0) || f > 1) {
            throw new IllegalArgumentException("budget '" + text + "' must be a fraction in (0, 1]");
        }
        return new Budget(f, -1, text);
    }

    /** The target parameter count for a full model of {@code fullParams}. */
    public long target(long fullParams) {
        long t = absolute >= 0 ? absolute : Math.round(fraction * fullParams);
        if (t <= 0 || t > fullParams) {
            throw new IllegalArgumentException("budget '" + text + "' = " + t + " parameters is outside (0, " + fullParams
                    + "], the size of the full model");
        }
        return t;
    }

    /** The fraction of a full model of {@code fullParams}. */
    public double fractionOf(long fullParams) {
        return (double) target(fullParams) / fullParams;
    }
}
