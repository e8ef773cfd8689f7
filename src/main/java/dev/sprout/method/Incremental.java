package dev.sprout.method;

import dev.sprout.config.ConfigException;
import dev.sprout.config.MethodConfig;
import dev.sprout.subnet.SubnetPlan;
import dev.sprout.subnet.SubnetPlan.LayerPlan;
import java.util.ArrayList;
import java.util.List;

/**
 * Incremental layer-wise training as the official code of Li, Fung and Huang (arXiv 2411.18700) runs it. The first
 * {@code incremental_fraction} of the steps form S equal stages; stage s adds the next block group on top (blocks not
 * yet added do not run; the final norm and head sit on the current top block). With freezing, each stage's first half
 * trains only the new blocks (the blocks below run frozen) and its second half all active blocks; without, the whole
 * stage trains all active blocks (the script's no_freezing_baseline). New blocks keep their initialisation; one optimizer
 * state is kept through the stages. The remaining steps train the full model from a fresh optimizer state.
 *
 * <p>Unlike the script, L blocks split over S stages with the remainder spread over the first stages, so every block
 * is used when S does not divide L. In the frozen half, {@code gradients: through-frozen} lets activation gradients
 * flow down through the frozen blocks to the trainable embeddings (what the code does, and pays for);
 * {@code cut} stops the graph at the first new block (what the paper's cost model assumes).
 */
public final class Incremental implements TrainingMethod {
    private final int nLayer;
    private final int[] tops; // blocks running in stage s: [0, tops[s])
    private final long[] starts; // stage s: steps [starts[s], starts[s+1]); starts[S] = end of the incremental phase
    private final boolean freeze;
    private final boolean cut;
    private final int totalSteps;

    public Incremental(MethodConfig.Incremental c, int nLayer, int totalSteps) {
        int s = c.stages();
        if (s > nLayer) throw new ConfigException("method.incremental.stages: " + s + " stages need at least " + s + " blocks; model.n_layer is " + nLayer);
        this.nLayer = nLayer;
        this.totalSteps = totalSteps;
        this.freeze = c.freeze();
        this.cut = c.gradients().equals("cut");
        this.tops = new int[s];
        int top = 0;
        for (int i = 0; i < s; i++) {
            top += nLayer / s + (i < nLayer % s ? 1 : 0);
            tops[i] = top;
        }
        long incremental = Math.round(c.incrementalFraction() * totalSteps);
        this.starts = new long[s + 1];
        for (int i = 0; i <= s; i++) starts[i] = Math.round((double) i * incremental / s);
        if (incremental < 2L * s) {
            throw new ConfigException("method.incremental.incremental_fraction: the incremental phase has " + incremental + " steps, fewer than two per stage ("
                    + s + " stages); raise train.max_steps or the fraction");
        }
    }

    /** Blocks that run in each stage: the stage's top. */
    public int[] stageTops() {
        return tops.clone();
    }

    /** The step at which continual training of the full model starts (train.max_steps when there is none). */
    public long continualStart() {
        return starts[tops.length];
    }

    @Override
    public String name() {
        return "incremental";
    }

    @Override
    public void beforeStep(long step, ModelSurgery surgery) {
        if (step == continualStart() && step < totalSteps) surgery.resetOptimizerState(); // the recipe's fresh AdamW
    }

    @Override
    public String stage(long step) {
        int s = stageOf(step);
        if (s < 0) return "full";
        return (s + 1) + (!freeze ? "" : newBlocksOnly(step, s) ? "-new" : "-all");
    }

    @Override
    public SubnetPlan plan(long step) {
        int s = stageOf(step);
        if (s < 0) return SubnetPlan.full(nLayer);
        int top = tops[s], bottomOfNew = s == 0 ? 0 : tops[s - 1];
        boolean newOnly = freeze && newBlocksOnly(step, s);
        List<LayerPlan> layers = new ArrayList<>(nLayer);
        for (int l = 0; l < nLayer; l++) {
            layers.add(l >= top ? LayerPlan.SKIP : newOnly && l < bottomOfNew ? LayerPlan.FROZEN : LayerPlan.FULL);
        }
        return new SubnetPlan(layers, newOnly && cut ? bottomOfNew : 0);
    }

    /** The stage of a step, or -1 in continual training. */
    private int stageOf(long step) {
        if (step >= continualStart()) return -1;
        int s = 0;
        while (step >= starts[s + 1]) s++;
        return s;
    }

    /** Whether the step lies in the first half of its stage. */
    private boolean newBlocksOnly(long step, int s) {
        return 2 * (step - starts[s]) < starts[s + 1] - starts[s];
    }
}
