package dev.sprout.subnet;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Randomness for subnetwork sampling that is a pure function of (seed, step): every micro-batch, every rank
 * and a resumed run draw the same plan for the same step, and no generator state needs checkpointing.
 */
public final class StepRandom {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private StepRandom() {}

    /** A generator for one optimizer step, independent of the data stream's (which uses the same seed). */
    public static SplittableRandom forStep(long seed, long step) {
        return new SplittableRandom(mix(mix(seed ^ 0x5EED5AB5L) + step * GOLDEN));
    }

    /** A uniform subset of size k of {0..n-1}, sorted; null when k == n (all). */
    public static int[] subset(SplittableRandom rng, int n, int k) {
        if (k < 0 || k > n) throw new IllegalArgumentException("subset of " + k + " out of " + n);
        if (k == n) return null;
        int[] pool = new int[n];
        for (int i = 0; i < n; i++) pool[i] = i;
        for (int i = 0; i < k; i++) { // partial Fisher-Yates
            int j = i + rng.nextInt(n - i);
            int t = pool[i];
            pool[i] = pool[j];
            pool[j] = t;
        }
        int[] out = Arrays.copyOf(pool, k);
        Arrays.sort(out);
        return out;
    }

    /** round(p * n), at least 1 and at most n. */
    public static int count(double p, int n) {
        return Math.max(1, Math.min(n, (int) Math.round(p * n)));
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
