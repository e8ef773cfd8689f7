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
            throw new ConfigException(key + ": must be one of " + String.join(" | ", allowed.stream().sorted().toList()) + ", got '" + v + "'");
        }
    }
}
