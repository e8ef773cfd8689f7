package dev.sprout.train;

/**
 * The steps since the progress line was last printed, summed: every rate the line shows (ms/step, tokens/s, GFLOP/s,
 * MFU) is a mean over this one window, so they agree with each other (a slow step slows them all alike) and none
 * jumps with a single step while another is smoothed.
 */
final class RateWindow {
    /** What the progress line prints, over one window. */
    record Rates(double msPerStep, double tokensPerS, double gflopsPerS, double mfu) {}

    private double ms;
    private double tokens;
    private double flops;
    private int steps;

    /** One more step: its time, the tokens it trained on and the FLOPs it cost (all ranks together). */
    void add(double stepMs, double stepTokens, double stepFlops) {
        ms += stepMs;
        tokens += stepTokens;
        flops += stepFlops;
        steps++;
    }

    int steps() {
        return steps;
    }

    /** The window's means; MFU against {@code peakFlopsPerS} (the job's peak: per rank times ranks). */
    Rates rates(double peakFlopsPerS) {
        if (steps == 0 || ms <= 0) return new Rates(steps == 0 ? Double.NaN : 0, Double.NaN, Double.NaN, Double.NaN);
        double seconds = ms / 1e3;
        return new Rates(ms / steps, tokens / seconds, flops / seconds / 1e9, flops / seconds / peakFlopsPerS);
    }

    /** Starts the next window (after a printed line). */
    void reset() {
        ms = tokens = flops = 0;
        steps = 0;
    }
}
