package dev.sprout.method;

import dev.sprout.config.MethodConfig;
import dev.sprout.config.ModelConfig;
import dev.sprout.subnet.Stages;
import dev.sprout.subnet.StepRandom;
import dev.sprout.subnet.SubnetPlan;
import dev.sprout.subnet.SubnetPlan.LayerPlan;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Evolving Subnetwork Training (Li et al., ICML 2024, arXiv 2406.06962). Stage 1 runs a uniform subset of
 * the layers and, inside each, uniform subsets of heads and MLP neurons (drawn independently per layer);
 * stage 2 runs every layer with sampled heads and neurons; stage 3 trains the full model. The paper's formulas scale
 * the sum over the kept heads, (1/p_H) sum_i h_i W_O^i, and over the kept neurons by the realized 1/p (kept fraction
 * after rounding); the output projections' biases (GPT-2) belong to no head or neuron and stay unscaled, so the scaled
 * layer's expectation over the sampled subsets is the full layer's. Skipped layers are not scaled (the paper documents
 * no layer-level factor).
 */
public final class Est implements TrainingMethod {
    /** Sampling rates of one stage. */
    public record Rates(double layers, double heads, double mlp) {
        boolean full() {
            return layers >= 1 && heads >= 1 && mlp >= 1;
        }
    }

    private final Stages<Rates> stages;
    private final int nLayer;
    private final int nHead;
    private final int nFf;
    private final boolean scale;
    private final long seed;

    public Est(MethodConfig.Est c, ModelConfig m, int totalSteps, long seed) {
        long[] b = Stages.boundaries(totalSteps, c.stage1Fraction(), c.stage2Fraction());
        this.stages = new Stages<>(List.of(b[0], b[1], b[2]), List.of(
                new Rates(c.stage1Layers(), c.stage1Heads(), c.stage1Mlp()),
                new Rates(1, c.stage2Heads(), c.stage2Mlp()),
                new Rates(1, 1, 1)));
        this.nLayer = m.nLayer();
        this.nHead = m.nHead();
        this.nFf = m.ffDim();
        this.scale = c.scale();
        this.seed = seed;
    }

    @Override
    public String name() {
        return "est";
    }

    @Override
    public String stage(long step) {
        return String.valueOf(stages.index(step) + 1);
    }

    @Override
    public SubnetPlan plan(long step) {
        Rates r = stages.lookup(step);
        if (r.full()) return SubnetPlan.full(nLayer);
        SplittableRandom rng = StepRandom.forStep(seed, step);
        int[] kept = StepRandom.subset(rng, nLayer, StepRandom.count(r.layers(), nLayer));
        boolean[] on = new boolean[nLayer];
        if (kept == null) java.util.Arrays.fill(on, true);
        else for (int l : kept) on[l] = true;
        List<LayerPlan> layers = new ArrayList<>(nLayer);
        for (int l = 0; l < nLayer; l++) {
            if (!on[l]) {
                layers.add(LayerPlan.SKIP);
                continue;
            }
            int h = StepRandom.count(r.heads(), nHead), f = StepRandom.count(r.mlp(), nFf);
            int[] heads = StepRandom.subset(rng, nHead, h);
            int[] neurons = StepRandom.subset(rng, nFf, f);
            double attnScale = scale ? (double) nHead / h : 1.0, mlpScale = scale ? (double) nFf / f : 1.0;
            layers.add(heads == null && neurons == null && attnScale == 1 && mlpScale == 1 ? LayerPlan.FULL
                    : new LayerPlan(true, heads, neurons, attnScale, mlpScale));
        }
        return new SubnetPlan(layers);
    }
}
