package dev.sprout.method;

import dev.sprout.config.ConfigException;
import dev.sprout.config.MethodConfig;
import dev.sprout.subnet.Stages;
import dev.sprout.subnet.StepRandom;
import dev.sprout.subnet.SubnetPlan;
import java.util.ArrayList;
import java.util.List;

/**
 * Random Part Training (Panigrahi et al., arXiv 2402.05913): stages of equal length; in stage s every block
 * outside the fixed set (first and last by default) runs with probability p_s = (l_s - |I|) / (L - |I|) for
 * the stage's expected path length l_s; a kept non-fixed block computes x + alpha_s f(x) (bias included), with
 * alpha_s = 1/p_s ("inverse-keep"), 1 ("none") or the stage's value from {@code custom_scales} ("custom": the paper's
 * per-stage multipliers, its Definition 1). The last stage, at p = 1, is the plain full model.
 */
public final class Raptr implements TrainingMethod {
    private final Stages<Double> stages;
    private final boolean[] fixed;
    private final String scale;
    private final double[] customScales;
    private final boolean fixedSize;
    private final long seed;
    private final double[] lengths;

    public Raptr(MethodConfig.Raptr c, int nLayer, int totalSteps, long seed) {
        this.fixed = LayerDropping.firstAndLast(nLayer, c.fixFirstLast() && nLayer >= 2);
        int nFixed = nLayer - LayerDropping.freeLayers(fixed).length;
        this.lengths = pathLengths(c.pathLengths(), nLayer, nFixed);
        List<Long> starts = new ArrayList<>();
        List<Double> probs = new ArrayList<>();
        for (int s = 0; s < lengths.length; s++) {
            starts.add(Math.round((double) s * totalSteps / lengths.length));
            probs.add(nLayer == nFixed ? 1.0 : (lengths[s] - nFixed) / (nLayer - nFixed));
        }
        this.stages = new Stages<>(starts, probs);
        this.scale = c.scale();
        this.customScales = scale.equals("custom") ? customScales(c.customScales(), lengths.length) : null;
        this.fixedSize = c.sampling().equals("fixed");
        this.seed = seed;
    }

    /** "4-5-6-8" or auto (L/2, 5L/8, 3L/4, L), each checked to lie between the fixed blocks and L. */
    static double[] pathLengths(String spec, int nLayer, int nFixed) {
        double[] l;
        if (spec.equals("auto")) {
            l = new double[]{Math.round(nLayer / 2.0), Math.round(5 * nLayer / 8.0), Math.round(3 * nLayer / 4.0), nLayer};
            for (int i = 0; i < l.length; i++) l[i] = Math.max(nFixed, l[i]);
        } else {
            String[] parts = spec.split("-");
            l = new double[parts.length];
            for (int i = 0; i < parts.length; i++) l[i] = Double.parseDouble(parts[i]);
        }
        for (double v : l) {
            if (v < nFixed || v > nLayer) {
                throw new ConfigException("method.raptr.path_lengths: " + v + " is outside [" + nFixed + ", " + nLayer + "] (fixed blocks to model.n_layer)");
            }
        }
        return l;
    }

    /** "1.6-1.3-1.1-1": one positive multiplier per stage. */
    static double[] customScales(String spec, int stages) {
        String[] parts = spec.split("-");
        if (spec.isBlank() || parts.length != stages) {
            throw new ConfigException("method.raptr.custom_scales: scale: custom needs one multiplier per stage (" + stages + " stages of method.raptr.path_lengths), joined by '-', got '" + spec + "'");
        }
        double[] s = new double[stages];
        for (int i = 0; i < stages; i++) {
            try {
                s[i] = Double.parseDouble(parts[i]);
            } catch (NumberFormatException e) {
                throw new ConfigException("method.raptr.custom_scales: '" + parts[i] + "' is not a number (in '" + spec + "')");
            }
            if (!(s[i] > 0) || Double.isInfinite(s[i])) throw new ConfigException("method.raptr.custom_scales: " + parts[i] + " must be positive and finite");
        }
        return s;
    }

    public double[] pathLengths() {
        return lengths.clone();
    }

    @Override
    public String name() {
        return "raptr";
    }

    @Override
    public String stage(long step) {
        return String.valueOf(stages.index(step) + 1);
    }

    @Override
    public SubnetPlan plan(long step) {
        int s = stages.index(step);
        double p = stages.stages().get(s);
        return LayerDropping.uniform(StepRandom.forStep(seed, step), fixed, p, scale, customScales == null ? 1.0 : customScales[s], fixedSize);
    }
}
