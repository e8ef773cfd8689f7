package dev.sprout.method;

import dev.sprout.config.ConfigException;
import dev.sprout.config.SproutConfig;

/** Builds the configured method. */
public final class Methods {
    private Methods() {}

    public static TrainingMethod build(SproutConfig cfg) {
        return switch (cfg.method().name()) {
            case "baseline" -> new Baseline(cfg.model().nLayer());
            default -> throw new ConfigException("method.name: unknown method '" + cfg.method().name() + "'");
        };
    }
}
