package dev.sprout.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Mean and sample standard deviation (n - 1) of the finite values given; n = 0 when there were none. */
public record Stat(double mean, double std, int n) {
    public static final Stat NONE = new Stat(Double.NaN, Double.NaN, 0);

    public static Stat of(List<Double> values) {
        List<Double> v = new ArrayList<>();
        for (Double d : values) if (d != null && Double.isFinite(d)) v.add(d);
        if (v.isEmpty()) return NONE;
        double sum = 0;
        for (double d : v) sum += d;
        double mean = sum / v.size();
        if (v.size() == 1) return new Stat(mean, Double.NaN, 1);
        double ss = 0;
        for (double d : v) ss += (d - mean) * (d - mean);
        return new Stat(mean, Math.sqrt(ss / (v.size() - 1)), v.size());
    }

    /** "1.2345", "1.2345 ± 0.0123" when n > 1, "n/a" when n = 0. */
    public String format(int decimals) {
        if (n == 0) return "n/a";
        String m = String.format(Locale.ROOT, "%." + decimals + "f", mean);
        return n > 1 ? m + " ± " + String.format(Locale.ROOT, "%." + decimals + "f", std) : m;
    }
}
