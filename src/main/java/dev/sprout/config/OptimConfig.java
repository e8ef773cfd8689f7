package dev.sprout.config;

import java.util.Set;

/** The `optim:` section: AdamW hyper-parameters, the learning-rate schedule and clipping. */
public record OptimConfig(double lr, double minLr, int warmupSteps, String schedule, double beta1, double beta2,
                          double eps, double weightDecay, double gradClip, int threads) {
    public static final Set<String> SCHEDULES = Set.of("cosine", "linear", "constant");

    public void validate() {
        Check.positive("optim.lr", lr);
        Check.nonNegative("optim.min_lr", minLr);
        if (minLr > lr) throw new ConfigException("optim.min_lr: " + minLr + " is larger than optim.lr=" + lr);
        Check.nonNegative("optim.warmup_steps", warmupSteps);
        Check.oneOf("optim.schedule", schedule, SCHEDULES);
        Check.inRange("optim.beta1", beta1, 0, 1);
        Check.inRange("optim.beta2", beta2, 0, 1);
        Check.positive("optim.eps", eps);
        Check.nonNegative("optim.weight_decay", weightDecay);
        Check.nonNegative("optim.grad_clip", gradClip);
        Check.nonNegative("optim.threads", threads);
    }
}
