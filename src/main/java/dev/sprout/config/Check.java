package dev.sprout.config;

import java.util.Set;

/** Validation helpers whose failures name the offending key. */
public final class Check {
    private Check() {}

    public static void positive(String key, long v) {
        if (v <= 0) throw new ConfigException(key + ": must be > 0, got " + v);
    }

    public static void positive(String key, double v) {
        if (!(v > 0) || Double.isInfinite(v)) throw new ConfigException(key + ": must be a finite number > 0, got " + v);
    }

    public static void nonNegative(String key, long v) {
        if (v < 0) throw new ConfigException(key + ": must be >= 0, got " + v);
    }

    public static void nonNegative(String key, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) throw new ConfigException(key + ": must be a finite number >= 0, got " + v);
    }

    public static void inRange(String key, double v, double lo, double hiExclusive) {
        if (!(v >= lo && v < hiExclusive)) throw new ConfigException(key + ": must be in [" + lo + ", " + hiExclusive + "), got " + v);
    }

    public static void oneOf(String key, String v, Set<String> allowed) {
        if (v == null || !allowed.contains(v)) {
            String hint = v == null ? "" : closest(v, allowed).map(n -> " (did you mean '" + n + "'?)").orElse("");
            throw new ConfigException(key + ": must be one of " + String.join(" | ", allowed.stream().sorted().toList()) + ", got '" + v + "'" + hint);
        }
    }

    /** The candidate nearest to a mistyped name (edit distance), when it is near enough to be the likely intent. */
    public static java.util.Optional<String> closest(String typed, java.util.Collection<String> candidates) {
        return candidates.stream().sorted().min(java.util.Comparator.comparingInt(c -> distance(c, typed)))
                .filter(c -> distance(c, typed) <= Math.max(2, typed.length() / 3));
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
