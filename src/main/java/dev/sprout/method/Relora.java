package dev.sprout.method;

import dev.sprout.config.MethodConfig;
import dev.sprout.model.Transformer;
import dev.sprout.subnet.StepRandom;
import dev.sprout.subnet.SubnetPlan;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;

/**
 * ReLoRA (Lialin et al. 2023): LoRA whose adapters are merged into the frozen weights every {@code reset_every} steps
 * (W += s B A), then restarted (A re-initialised, B zero, so the function is unchanged) with their optimizer state reset;
 * the learning rate re-warms linearly after each restart (the "jagged" schedule). The sum of rank-r updates can reach
 * full rank.
 */
public final class Relora implements TrainingMethod {
    private final MethodConfig.Lora lora;
    private final MethodConfig.Relora cfg;
    private final SubnetPlan full;
    private final long seed;

    public Relora(MethodConfig.Lora lora, MethodConfig.Relora cfg, int nLayer, long seed) {
        this.lora = lora;
        this.cfg = cfg;
        this.full = SubnetPlan.full(nLayer);
        this.seed = seed;
    }

    @Override
    public String name() {
        return "relora";
    }

    @Override
    public void setup(Transformer model) {
        LowRank.addKaimingZero(model, lora.rank(), lora.alpha(), StepRandom.forStep(seed, -1));
    }

    @Override
    public void beforeStep(long step, ModelSurgery surgery) {
        if (step == 0 || step % cfg.resetEvery() != 0) return;
        Transformer model = surgery.model();
        SplittableRandom rng = StepRandom.forStep(seed, step); // the restart's A depends on the step alone, so a resumed run draws the same
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            for (Transformer.Adapter ad : model.adapters().values()) {
                model.param(ad.linear() + ".weight").copy_(model.effectiveWeight(ad.linear())); // W <- W + s B A
                ad.a().copy_(LowRank.kaimingA(ad.a().size(0), ad.a().size(1), rng));
                ad.b().zero_();
                surgery.resetOptimizerState(ad.linear() + ".lora_a", null, true);
                surgery.resetOptimizerState(ad.linear() + ".lora_b", null, true);
            }
        }
    }

    @Override
    public double lrFactor(long step) {
        long since = step % cfg.resetEvery();
        if (step < cfg.resetEvery() || cfg.restartWarmup() == 0 || since >= cfg.restartWarmup()) return 1.0;
        return (since + 1.0) / cfg.restartWarmup();
    }

    @Override
    public String stage(long step) {
        return String.valueOf(step / cfg.resetEvery() + 1);
    }

    @Override
    public SubnetPlan plan(long step) {
        return full;
    }
}
