package dev.sprout.subnet;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * What one optimizer step executes: which blocks run, which attention heads and MLP neurons run inside
 * each block, and the scales applied to their outputs. The forward pass reads nothing else, so every
 * subnetwork method (EST, RaPTr, layer dropping, growth) is a way of producing plans.
 *
 * @param layers one entry per block of the full model, bottom first
 */
public record SubnetPlan(List<LayerPlan> layers) {
    public SubnetPlan {
        layers = List.copyOf(layers);
    }

    /**
     * One block's part of the plan.
     *
     * @param active    whether the block runs at all; a skipped block is the identity on the residual stream
     * @param heads     sorted query-head indices that run, or null for all heads
     * @param neurons   sorted MLP inner-neuron indices that run, or null for all neurons
     * @param attnScale multiplier on the attention branch's output (before its bias)
     * @param mlpScale  multiplier on the MLP branch's output (before its bias)
     */
    public record LayerPlan(boolean active, int[] heads, int[] neurons, double attnScale, double mlpScale) {
        public static final LayerPlan FULL = new LayerPlan(true, null, null, 1.0, 1.0);
        public static final LayerPlan SKIP = new LayerPlan(false, null, null, 1.0, 1.0);

        public boolean isFull() {
            return active && heads == null && neurons == null && attnScale == 1.0 && mlpScale == 1.0;
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
            return o instanceof LayerPlan p && p.active == active && Arrays.equals(p.heads, heads)
                    && Arrays.equals(p.neurons, neurons) && p.attnScale == attnScale && p.mlpScale == mlpScale;
        }

        @Override
        public int hashCode() {
            return Boolean.hashCode(active) * 31 + Arrays.hashCode(heads) * 17 + Arrays.hashCode(neurons);
        }

        @Override
        public String toString() {
            if (!active) return "skip";
            if (isFull()) return "full";
            return "heads=" + (heads == null ? "all" : Arrays.toString(heads)) + " neurons=" + (neurons == null ? "all" : neurons.length)
                    + " scales=" + attnScale + "/" + mlpScale;
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
        return layers.stream().allMatch(LayerPlan::isFull);
    }

    public int activeLayers() {
        return (int) layers.stream().filter(LayerPlan::active).count();
    }
}
