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
}
