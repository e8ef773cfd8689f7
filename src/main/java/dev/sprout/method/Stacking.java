package dev.sprout.method;

import dev.sprout.config.ConfigException;
import dev.sprout.config.MethodConfig;
import dev.sprout.subnet.Stages;
import dev.sprout.subnet.SubnetPlan;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Stacking: the model grows through a list of depths in equal-length stages, only the current blocks running; the
 * stages take {@code growth_fraction} of the run and the last (full) depth runs on to the end. At a
 * growth from depth d to d + k, the k new blocks are copies of the current top k blocks, in order (block d + i copies
 * block d - k + i). Doubling depths (2-4-8) is progressive stacking (Gong et al., ICML 2019: the whole stack is copied
 * on top of itself); smaller steps (4-6-8) are gradual stacking (Reddi et al., ICML 2023). The copies' optimizer state
 * is copied from their sources or reset; with zero_init their residual output projections start at zero, so the grown
 * model computes exactly the function it computed before the growth.
 */
public final class Stacking implements TrainingMethod {
    private final int nLayer;
    private final int[] depths;
    private final Stages<Integer> stages;
    private final boolean copyState;
    private final boolean zeroInit;

    public Stacking(MethodConfig.Stacking c, int nLayer, int totalSteps) {
        this.nLayer = nLayer;
        this.depths = Arrays.stream(c.depths().split("-")).mapToInt(Integer::parseInt).toArray();
        for (int i = 0; i < depths.length; i++) {
            int prev = i == 0 ? 0 : depths[i - 1];
            if (depths[i] <= prev) throw new ConfigException("method.stacking.depths: depths must grow, got " + c.depths());
            if (i > 0 && depths[i] - prev > prev) {
                throw new ConfigException("method.stacking.depths: growing from " + prev + " to " + depths[i] + " blocks needs more blocks to copy than exist ("
                        + c.depths() + "); grow at most to double the depth");
            }
        }
        if (depths[depths.length - 1] != nLayer) {
            throw new ConfigException("method.stacking.depths: the last depth must equal model.n_layer = " + nLayer + ", got " + c.depths());
        }
        List<Long> starts = new ArrayList<>();
        double growthSteps = c.growthFraction() * totalSteps;
        for (int i = 0; i < depths.length; i++) starts.add(Math.round(i * growthSteps / depths.length));
        this.stages = new Stages<>(starts, Arrays.stream(depths).boxed().toList());
        if (depths.length > 1 && starts.get(1) == 0) throw new ConfigException("method.stacking.depths: " + depths.length + " stages need more than "
                + Math.round(growthSteps) + " growth steps (method.stacking.growth_fraction of train.max_steps = " + totalSteps + ")");
        this.copyState = c.optimizerState().equals("copy");
        this.zeroInit = c.zeroInit();
    }

    @Override
    public String name() {
        return "stacking";
    }

    @Override
    public void beforeStep(long step, ModelSurgery surgery) {
        for (int i = 1; i < depths.length; i++) {
            if (step != stages.starts().get(i)) continue;
            int from = depths[i - 1], k = depths[i] - from;
            for (int j = from; j < depths[i]; j++) {
                surgery.copyBlock(j - k, j, copyState);
                if (zeroInit) surgery.zeroResidualOutputs(j);
            }
        }
    }

    @Override
    public String stage(long step) {
        return String.valueOf(stages.lookup(step));
    }

    @Override
    public SubnetPlan plan(long step) {
        int depth = stages.lookup(step);
        boolean[] active = new boolean[nLayer];
        Arrays.fill(active, 0, depth, true);
        return SubnetPlan.layers(nLayer, active);
    }
}
