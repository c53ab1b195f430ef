package org.nestlm.util;

import java.util.Locale;

/** Human-readable quantities. */
public final class Units {

    private Units() {
    }

    /** Bytes in binary units with {@code decimals} decimals: "14.4 MiB"; plain "512 B" below 1 KiB. */
    public static String bytes(long b, int decimals) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = b;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? b + " B" : String.format(Locale.ROOT, "%." + decimals + "f %s", v, units[u]);
    }

    /** Counts with a metric prefix: 7208440 → "7.21 M", 1500 → "1.5 K", 999 → "999". */
    public static String count(long n) {
        if (n >= 1_000_000_000L) {
            return String.format(Locale.ROOT, "%.3f B", n / 1e9);
        }
        if (n >= 1_000_000L) {
            return String.format(Locale.ROOT, "%.2f M", n / 1e6);
        }
        if (n >= 1_000L) {
            return String.format(Locale.ROOT, "%.1f K", n / 1e3);
        }
        return Long.toString(n);
    }
}
