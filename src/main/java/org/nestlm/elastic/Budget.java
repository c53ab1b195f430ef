package org.nestlm.elastic;

import java.util.Locale;

/**
 * A parameter budget: a fraction of the full model ({@code 0.5}, {@code 50%}) or an absolute count
 * ({@code 3M}, {@code 1.2B}, {@code 750K}, {@code 123456}).
 *
 * @param fraction the budget as a fraction of the full model, when given as one (NaN otherwise)
 * @param absolute the budget as a parameter count, when given as one (−1 otherwise)
 * @param text     as the user wrote it
 */
public record Budget(double fraction, long absolute, String text) {

    /** @throws IllegalArgumentException naming the text */
    public static Budget parse(String text) {
        String s = text.trim().toUpperCase(Locale.ROOT);
        try {
            if (s.endsWith("%")) {
                return fraction(Double.parseDouble(s.substring(0, s.length() - 1)) / 100, text);
            }
            char last = s.isEmpty() ? ' ' : s.charAt(s.length() - 1);
            double scale = switch (last) {
                case 'K' -> 1e3;
                case 'M' -> 1e6;
                case 'B', 'G' -> 1e9;
                default -> 0;
            };
            if (scale > 0) {
                return new Budget(Double.NaN, Math.round(Double.parseDouble(s.substring(0, s.length() - 1)) * scale), text);
            }
            double v = Double.parseDouble(s);
            if (v <= 1.0) {
                return fraction(v, text);
            }
            return new Budget(Double.NaN, Math.round(v), text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("budget '" + text + "' is not a fraction (0.5, 50%) or a parameter count (3M, 1.2B)");
        }
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
