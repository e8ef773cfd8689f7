package dev.sprout.method;

/**
 * The changes a method may make to the model and its optimizer state between two steps (growth events). Which
 * blocks run, which are frozen and where gradients stop are not surgery: the step's {@link dev.sprout.subnet.SubnetPlan}
 * says so. Everything here is deterministic, so a run resumed from a checkpoint replays the same events.
 */
public interface ModelSurgery {
    /** Copies block src's parameters into block dst; its optimizer state too when copyOptimizerState, else dst's is zeroed. */
    void copyBlock(int src, int dst, boolean copyOptimizerState);

    /** Zeroes block l's residual output projections (attention o, MLP down; weights and biases): the block then adds nothing. */
    void zeroResidualOutputs(int l);

    /** Zeroes the AdamW moments and step counters of block l's parameters. */
    void resetOptimizerState(int l);

    /** A fresh optimizer: every parameter's moments and step counters zeroed. */
    void resetOptimizerState();

    /**
     * Zeroes the AdamW moments of one parameter, or of some of its rows or columns (slice may be null), and their step
     * counters when {@code counters}.
     */
    void resetOptimizerState(String param, dev.sprout.tensor.Slice slice, boolean counters);

    /** The model, for methods that edit tensors directly (adapters: folding a vector into the frozen weight). */
    dev.sprout.model.Transformer model();
}
