package dev.sprout.method;

import dev.sprout.config.MethodConfig;
import dev.sprout.model.Transformer;
import dev.sprout.subnet.StepRandom;
import dev.sprout.subnet.SubnetPlan;

/**
 * LoRA pretraining from scratch (the low-rank baseline): every block linear's weight is frozen at its initialisation
 * and only rank-r adapters (with embeddings, norms and the head) train, so the blocks' update never leaves a rank-r
 * subspace per matrix.
 */
public final class Lora implements TrainingMethod {
    private final MethodConfig.Lora cfg;
    private final SubnetPlan full;
    private final long seed;

    public Lora(MethodConfig.Lora cfg, int nLayer, long seed) {
        this.cfg = cfg;
        this.full = SubnetPlan.full(nLayer);
        this.seed = seed;
    }

    @Override
    public String name() {
        return "lora";
    }

    @Override
    public void setup(Transformer model) {
        LowRank.addKaimingZero(model, cfg.rank(), cfg.alpha(), StepRandom.forStep(seed, -1));
    }

    @Override
    public SubnetPlan plan(long step) {
        return full;
    }
}
