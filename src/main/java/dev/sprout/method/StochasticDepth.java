package dev.sprout.method;

import dev.sprout.config.MethodConfig;
import dev.sprout.subnet.StepRandom;
import dev.sprout.subnet.SubnetPlan;

/**
 * Constant-probability stochastic depth: RaPTr with a single stage. The control RaPTr's reviewers asked for:
 * set {@code keep} so that its FLOPs match the progressive schedule's.
 */
public final class StochasticDepth implements TrainingMethod {
    private final boolean[] fixed;
    private final double keep;
    private final String scale;
    private final long seed;

    public StochasticDepth(MethodConfig.StochasticDepth c, int nLayer, long seed) {
        this.fixed = LayerDropping.firstAndLast(nLayer, c.fixFirstLast() && nLayer >= 2);
        this.keep = c.keep();
        this.scale = c.scale();
        this.seed = seed;
    }

    @Override
    public String name() {
        return "stochastic_depth";
    }

    @Override
    public SubnetPlan plan(long step) {
        return LayerDropping.uniform(StepRandom.forStep(seed, step), fixed, keep, scale, 1.0, false);
    }
}
