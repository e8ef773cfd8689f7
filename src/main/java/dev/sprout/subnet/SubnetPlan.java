package dev.sprout.subnet;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * What one optimizer step executes: which blocks run, which attention heads and MLP neurons run inside
 * each block, the scales applied to their outputs, which running blocks are frozen, and where gradients stop.
 * The forward pass reads nothing else, so every subnetwork and growth method (EST, RaPTr, layer dropping,
 * incremental training, stacking) is a way of producing plans.
 *
 * @param layers        one entry per block of the full model, bottom first
 * @param gradientFloor the residual stream is cut from the graph at the input of this block (0: gradients reach
 *                      the embeddings; n_layer: only the final norm and head get gradients). Blocks below it run
 *                      forward only, so their backward costs nothing (incremental training's cost model).
 */
public record SubnetPlan(List<LayerPlan> layers, int gradientFloor) {
    public SubnetPlan {
        layers = List.copyOf(layers);
        if (gradientFloor < 0 || gradientFloor > layers.size()) {
            throw new IllegalArgumentException("gradientFloor " + gradientFloor + " outside [0, " + layers.size() + "]");
        }
    }

    /** A plan whose gradients flow all the way down to the embeddings. */
    public SubnetPlan(List<LayerPlan> layers) {
        this(layers, 0);
    }

    /**
     * One block's part of the plan.
     *
     * <p>Two kinds of scale, because the papers scale different things. A width scale (EST's 1/p_H and 1/p_M) multiplies
     * the sum over the kept heads' or neurons' contributions, before the output projection's bias: the bias belongs to no
     * head or neuron, and the scaled sum's expectation over the sampled subsets is then the full layer's. A branch scale
     * (RaPTr's, progressive layer dropping's and stochastic depth's 1/p on a kept block) multiplies each whole residual
     * branch, bias included: x + s f(x), whose expectation over keeping the block or not is x + f(x).
     *
     * @param active      whether the block runs at all; a skipped block is the identity on the residual stream
     * @param heads       sorted query-head indices that run, or null for all heads
     * @param neurons     sorted MLP inner-neuron indices that run, or null for all neurons
     * @param attnScale   width scale on the attention output's sum over kept heads (before its bias)
     * @param mlpScale    width scale on the MLP output's sum over kept neurons (before its bias)
     * @param branchScale scale on both residual branches' whole outputs, biases included
     * @param frozen      the block runs but its parameters get no gradient and no update (activation gradients
     *                    still flow through it to the blocks below, unless the gradient floor cuts them)
     */
    public record LayerPlan(boolean active, int[] heads, int[] neurons, double attnScale, double mlpScale, double branchScale, boolean frozen) {
        public static final LayerPlan FULL = new LayerPlan(true, null, null, 1.0, 1.0, 1.0, false);
        public static final LayerPlan SKIP = new LayerPlan(false, null, null, 1.0, 1.0, 1.0, false);
        public static final LayerPlan FROZEN = new LayerPlan(true, null, null, 1.0, 1.0, 1.0, true);

        /** A trainable block with sampled heads and neurons and their width scales (EST). */
        public LayerPlan(boolean active, int[] heads, int[] neurons, double attnScale, double mlpScale) {
            this(active, heads, neurons, attnScale, mlpScale, 1.0, false);
        }

        /** A whole trainable block whose two residual branches are multiplied by {@code branchScale}, biases included. */
        public static LayerPlan branchScaled(double branchScale) {
            return branchScale == 1.0 ? FULL : new LayerPlan(true, null, null, 1.0, 1.0, branchScale, false);
        }

        /** The attention branch's total factor on the kept heads' sum (width times branch). */
        public double attnSumScale() {
            return attnScale * branchScale;
        }

        /** The MLP branch's total factor on the kept neurons' sum (width times branch). */
        public double mlpSumScale() {
            return mlpScale * branchScale;
        }

        private boolean unscaled() {
            return attnScale == 1.0 && mlpScale == 1.0 && branchScale == 1.0;
        }

        public boolean isFull() {
            return active && !frozen && heads == null && neurons == null && unscaled();
        }

        /** Whether the block's parameters receive gradients. */
        public boolean trainable() {
            return active && !frozen;
        }

        /** Number of heads that run out of {@code total}. */
        public int headCount(int total) {
            return !active ? 0 : heads == null ? total : heads.length;
        }

        public int neuronCount(int total) {
            return !active ? 0 : neurons == null ? total : neurons.length;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof LayerPlan p && p.active == active && p.frozen == frozen && Arrays.equals(p.heads, heads)
                    && Arrays.equals(p.neurons, neurons) && p.attnScale == attnScale && p.mlpScale == mlpScale && p.branchScale == branchScale;
        }

        @Override
        public int hashCode() {
            return Boolean.hashCode(active) * 31 + Boolean.hashCode(frozen) * 7 + Arrays.hashCode(heads) * 17 + Arrays.hashCode(neurons);
        }

        @Override
        public String toString() {
            if (!active) return "skip";
            if (isFull()) return "full";
            if (frozen && heads == null && neurons == null && unscaled()) return "frozen";
            return (frozen ? "frozen " : "") + "heads=" + (heads == null ? "all" : Arrays.toString(heads)) + " neurons=" + (neurons == null ? "all" : neurons.length)
                    + " scales=" + attnScale + "/" + mlpScale + (branchScale == 1.0 ? "" : " branch=" + branchScale);
        }
    }

    /** The whole model. */
    public static SubnetPlan full(int nLayer) {
        return new SubnetPlan(Collections.nCopies(nLayer, LayerPlan.FULL));
    }

    /** Only the given blocks run, each in full. */
    public static SubnetPlan layers(int nLayer, boolean[] active) {
        List<LayerPlan> l = new ArrayList<>(nLayer);
        for (int i = 0; i < nLayer; i++) l.add(active[i] ? LayerPlan.FULL : LayerPlan.SKIP);
        return new SubnetPlan(l);
    }

    public boolean isFull() {
        return gradientFloor == 0 && layers.stream().allMatch(LayerPlan::isFull);
    }

    /** Whether block l's parameters get gradients: it runs, is not frozen, and lies at or above the gradient floor. */
    public boolean updates(int l) {
        return l >= gradientFloor && layers.get(l).trainable();
    }

    public int activeLayers() {
        return (int) layers.stream().filter(LayerPlan::active).count();
    }
}
