package dev.sprout.method;

import dev.sprout.config.ConfigException;
import dev.sprout.config.SproutConfig;

/** Builds the configured method. */
public final class Methods {
    private Methods() {}

    public static TrainingMethod build(SproutConfig cfg) {
        var m = cfg.method();
        int layers = cfg.model().nLayer(), steps = cfg.train().maxSteps();
        return switch (m.name()) {
            case "baseline" -> new Baseline(layers);
            case "est" -> new Est(m.est(), cfg.model(), steps, cfg.seed());
            case "raptr" -> new Raptr(m.raptr(), layers, steps, cfg.seed());
            case "pld" -> new ProgressiveLayerDropping(m.pld(), layers, cfg.seed());
            case "stochastic_depth" -> new StochasticDepth(m.stochasticDepth(), layers, cfg.seed());
            case "incremental" -> new Incremental(m.incremental(), layers, steps);
            case "stacking" -> new Stacking(m.stacking(), layers, steps);
            case "lora" -> new Lora(m.lora(), layers, cfg.seed());
            case "switchlora" -> new SwitchLora(m.lora(), m.switchlora(), layers, steps, cfg.seed());
            case "relora" -> new Relora(m.lora(), m.relora(), layers, cfg.seed());
            case "galore" -> new Galore(m.galore(), layers);
            default -> throw new ConfigException("method.name: unknown method '" + m.name() + "'");
        };
    }
}
