package dev.sprout.config;

/** The `flops:` section: the peak used for MFU and the backward/forward cost ratio. */
public record FlopsConfig(double peakGflops, double bwdOverFwd) {
    public void validate() {
        Check.positive("flops.peak_gflops", peakGflops);
        Check.nonNegative("flops.bwd_over_fwd", bwdOverFwd);
    }
}
