package dev.sprout.optim;

import dev.sprout.config.OptimConfig;

/**
 * Linear warmup then cosine, linear or constant decay to min_lr, over a fixed horizon (the config's
 * train.max_steps, so stopping early with --max-steps does not change the schedule).
 */
public record LrSchedule(double lr, double minLr, int warmup, int horizon, String shape) {
    public static LrSchedule of(OptimConfig o, int horizon) {
        return new LrSchedule(o.lr(), o.minLr(), o.warmupSteps(), horizon, o.schedule());
    }

    /** The rate for the optimizer step with 0-based index {@code step}. */
    public double at(long step) {
        if (step < warmup) return lr * (step + 1) / warmup;
        if (shape.equals("constant") || horizon <= warmup) return lr;
        double progress = Math.min(1.0, (double) (step - warmup) / (horizon - warmup));
        double coeff = shape.equals("linear") ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * progress));
        return minLr + coeff * (lr - minLr);
    }
}
