package dev.sprout.config;

/**
 * The `dist:` section: how a data-parallel job (started by `sprout launch`, torchrun, Slurm...) talks between ranks. None
 * of it changes what a run computes, so a run may be resumed with other values.
 */
public record DistConfig(int timeoutS, double bucketMb, int checkEvery, boolean shardOptimizer) {
    public void validate() {
        if (timeoutS < 1) throw new ConfigException("dist.timeout_s: must be >= 1, got " + timeoutS);
        Check.positive("dist.bucket_mb", bucketMb);
        Check.nonNegative("dist.check_every", checkEvery);
    }

    public long bucketBytes() {
        return Math.max(1, (long) (bucketMb * 1024 * 1024));
    }
}
