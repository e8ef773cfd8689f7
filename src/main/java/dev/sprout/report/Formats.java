package dev.sprout.report;

import java.util.Locale;

/** How the report writes its numbers, shared by its tables and its opening lines so that both read the same. */
final class Formats {
    private Formats() {}

    /** A plain number, "n/a" when it is not finite. */
    static String fmt(double v, int decimals) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%." + decimals + "f", v) : "n/a";
    }

    /** A multiple: "1.30x", "1.30x ± 0.05" over several seeds. */
    static String times(Stat s) {
        if (s.n() == 0) return "n/a";
        String m = String.format(Locale.ROOT, "%.2fx", s.mean());
        return s.n() > 1 ? m + String.format(Locale.ROOT, " ± %.2f", s.std()) : m;
    }

    /** A signed difference: "+0.0123", "-0.0100 ± 0.0040". */
    static String signed(Stat s) {
        if (s.n() == 0) return "n/a";
        String m = String.format(Locale.ROOT, "%+.4f", s.mean());
        return s.n() > 1 ? m + String.format(Locale.ROOT, " ± %.4f", s.std()) : m;
    }

    /** {@code value}, marked "in k/n seeds" when it covers only some of the seed rounds. */
    static String inRounds(String value, int k, int n) {
        if (k == 0) return "n/a";
        return k < n ? value + " in " + k + "/" + n + " seeds" : value;
    }

    /** A step count: whole when every seed ran the same steps. */
    static String steps(Stat s) {
        if (s.n() == 0) return "n/a";
        if (s.n() == 1 || s.std() == 0) return String.valueOf(Math.round(s.mean()));
        return s.format(1);
    }

    /** Bytes as megabytes (10^6), three decimals. */
    static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.3f", bytes / 1e6);
    }

    /** "1 seed", "3 seeds". */
    static String seeds(long n) {
        return n + (n == 1 ? " seed" : " seeds");
    }
}
