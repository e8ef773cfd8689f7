package dev.sprout.config;

/** The `train:` section: batch geometry, run length and how often to evaluate and log. */
public record TrainConfig(int batchSize, int gradAccum, int maxSteps, int evalEvery, long evalTokens, int logEvery, String precision) {
    public static final java.util.Set<String> PRECISIONS = java.util.Set.of("fp32", "bf16");

    public void validate() {
        Check.oneOf("train.precision", precision, PRECISIONS);
        Check.positive("train.batch_size", batchSize);
        Check.positive("train.grad_accum", gradAccum);
        Check.positive("train.max_steps", maxSteps);
        Check.nonNegative("train.eval_every", evalEvery);
        Check.positive("train.eval_tokens", evalTokens);
        Check.positive("train.log_every", logEvery);
    }
}
