package dev.sprout.config;

/** The `checkpoint:` section. */
public record CheckpointConfig(int every, int keep) {
    public void validate() {
        Check.nonNegative("checkpoint.every", every);
        Check.positive("checkpoint.keep", keep);
    }
}
