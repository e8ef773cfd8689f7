package dev.sprout.method;

import dev.sprout.config.MethodConfig;
import dev.sprout.subnet.StepRandom;
import dev.sprout.subnet.SubnetPlan;

/**
 * Progressive layer dropping (Zhang and He, NeurIPS 2020), DeepSpeed's schedule: the global keep factor
 * theta(t) = (1 - theta_bar) exp(-gamma t) + theta_bar decays from 1; block l (1-based) of L runs with
 * p_l = 1 - (l / L)(1 - theta(t)), so deeper blocks drop more, and a kept block's branches are scaled by 1/p_l.
 * The formula is reproduced, not DeepSpeed's off-by-one quirk that always keeps block 1.
 */
public final class ProgressiveLayerDropping implements TrainingMethod {
    private final int nLayer;
    private final double thetaBar;
    private final double gamma;
    private final long seed;

    public ProgressiveLayerDropping(MethodConfig.Pld c, int nLayer, long seed) {
        this.nLayer = nLayer;
        this.thetaBar = c.thetaBar();
        this.gamma = c.gamma();
        this.seed = seed;
    }

    public double theta(long step) {
        return (1 - thetaBar) * Math.exp(-gamma * step) + thetaBar;
    }

    @Override
    public String name() {
        return "pld";
    }

    @Override
    public SubnetPlan plan(long step) {
        double theta = theta(step);
        double[] keep = new double[nLayer], scales = new double[nLayer];
        for (int l = 0; l < nLayer; l++) {
            keep[l] = 1 - (l + 1.0) / nLayer * (1 - theta);
            scales[l] = 1 / keep[l];
        }
        return LayerDropping.bernoulli(StepRandom.forStep(seed, step), keep, scales);
    }
}
