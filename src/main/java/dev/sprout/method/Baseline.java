package dev.sprout.method;

import dev.sprout.subnet.SubnetPlan;

/** Full training: every step runs the whole model. */
public final class Baseline implements TrainingMethod {
    private final SubnetPlan full;

    public Baseline(int nLayer) {
        this.full = SubnetPlan.full(nLayer);
    }

    @Override
    public String name() {
        return "baseline";
    }

    @Override
    public SubnetPlan plan(long step) {
        return full;
    }
}
