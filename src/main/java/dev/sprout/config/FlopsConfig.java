package dev.sprout.config;

/** The `flops:` section: the peak used for MFU and the backward/forward cost ratio. */
public record FlopsConfig(String peakGflops, double bwdOverFwd) {
    public void validate() {
        if (!peakGflops.equals("auto")) {
            double v;
            try {
                v = Double.parseDouble(peakGflops);
            } catch (NumberFormatException e) {
                throw new ConfigException("flops.peak_gflops: expected auto or a number of GFLOP/s, got '" + peakGflops + "'");
            }
            Check.positive("flops.peak_gflops", v);
        }
        Check.nonNegative("flops.bwd_over_fwd", bwdOverFwd);
    }
}
