package dev.sprout.method;

import dev.sprout.subnet.StepRandom;
import dev.sprout.subnet.SubnetPlan;
import dev.sprout.subnet.SubnetPlan.LayerPlan;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Whole-block dropping shared by RaPTr, progressive layer dropping and stochastic depth: each block runs
 * with its own keep probability (or a fixed-size subset of the non-fixed blocks is drawn), and a kept block's
 * residual branches are scaled by its factor, biases included: x + s f(x), as RaPTr, PLD and stochastic depth write it.
 */
final class LayerDropping {
    private LayerDropping() {}

    /** Independent Bernoulli draws; keep[l] = 1 keeps block l always. scales[l] multiplies a kept block's branches. */
    static SubnetPlan bernoulli(SplittableRandom rng, double[] keep, double[] scales) {
        List<LayerPlan> layers = new ArrayList<>(keep.length);
        for (int l = 0; l < keep.length; l++) {
            boolean on = keep[l] >= 1.0 || rng.nextDouble() < keep[l];
            layers.add(on ? LayerPlan.branchScaled(scales[l]) : LayerPlan.SKIP);
        }
        return new SubnetPlan(layers);
    }

    /**
     * Exactly round(p * |free|) of the non-fixed blocks (at least one when p > 0), fixed blocks always; kept free blocks
     * scaled by the realized 1/(k/|free|) (inverse-keep), by {@code custom} (custom) or not at all (none).
     */
    static SubnetPlan fixedSize(SplittableRandom rng, int nLayer, boolean[] fixed, double p, String scale, double custom) {
        int[] free = freeLayers(fixed);
        int k = p <= 0 ? 0 : StepRandom.count(p, free.length);
        int[] chosen = free.length == 0 ? new int[0] : StepRandom.subset(rng, free.length, k);
        boolean[] on = fixed.clone();
        if (chosen == null) for (int f : free) on[f] = true;
        else for (int c : chosen) on[free[c]] = true;
        double s = switch (scale) {
            case "inverse-keep" -> k > 0 ? (double) free.length / k : 1.0;
            case "custom" -> custom;
            default -> 1.0;
        };
        List<LayerPlan> layers = new ArrayList<>(nLayer);
        for (int l = 0; l < nLayer; l++) {
            if (!on[l]) layers.add(LayerPlan.SKIP);
            else if (fixed[l] || s == 1.0) layers.add(LayerPlan.FULL);
            else layers.add(LayerPlan.branchScaled(s));
        }
        return new SubnetPlan(layers);
    }

    static boolean[] firstAndLast(int nLayer, boolean fix) {
        boolean[] f = new boolean[nLayer];
        if (fix) {
            f[0] = true;
            f[nLayer - 1] = true;
        }
        return f;
    }

    static int[] freeLayers(boolean[] fixed) {
        int n = 0;
        for (boolean f : fixed) if (!f) n++;
        int[] free = new int[n];
        for (int l = 0, i = 0; l < fixed.length; l++) if (!fixed[l]) free[i++] = l;
        return free;
    }

    /**
     * Keep probability p for free blocks and 1 for fixed ones; a kept free block's branches are scaled by 1/p
     * ({@code scale} inverse-keep), by {@code custom} (custom) or not at all (none); fixed blocks never. At p = 1 the plan is
     * the full model, whatever the scale.
     */
    static SubnetPlan uniform(SplittableRandom rng, boolean[] fixed, double p, String scale, double custom, boolean fixedSize) {
        if (p >= 1.0) return SubnetPlan.full(fixed.length);
        if (fixedSize) return fixedSize(rng, fixed.length, fixed, p, scale, custom);
        double free = switch (scale) {
            case "inverse-keep" -> 1.0 / p;
            case "custom" -> custom;
            default -> 1.0;
        };
        double[] keep = new double[fixed.length], scales = new double[fixed.length];
        for (int l = 0; l < fixed.length; l++) {
            keep[l] = fixed[l] ? 1.0 : p;
            scales[l] = fixed[l] ? 1.0 : free;
        }
        return bernoulli(rng, keep, scales);
    }
}
