package dev.sprout.config;

import java.util.Set;

/** The `method:` section: which training method chooses each step's subnetwork, and each method's settings. */
public record MethodConfig(String name, String optimizerSlices, Est est, Raptr raptr, Pld pld, StochasticDepth stochasticDepth,
                           Incremental incremental, Stacking stacking, Lora lora, Switchlora switchlora, Relora relora, Galore galore) {
    public static final Set<String> NAMES = Set.of("baseline", "est", "raptr", "pld", "stochastic_depth", "incremental", "stacking",
            "lora", "switchlora", "relora", "galore");
    public static final Set<String> SCALES = Set.of("inverse-keep", "none");
    public static final Set<String> RAPTR_SCALES = Set.of("inverse-keep", "none", "custom");

    /** EST's three-stage schedule. */
    public record Est(double stage1Fraction, double stage2Fraction, double stage1Layers, double stage1Heads, double stage1Mlp,
                      double stage2Heads, double stage2Mlp, boolean scale) {
        void validate() {
            fraction("method.est.stage1_fraction", stage1Fraction);
            fraction("method.est.stage2_fraction", stage2Fraction);
            if (stage1Fraction + stage2Fraction > 1) {
                throw new ConfigException("method.est.stage2_fraction: stage1_fraction + stage2_fraction = " + (stage1Fraction + stage2Fraction) + " exceeds 1");
            }
            rate("method.est.stage1_layers", stage1Layers);
            rate("method.est.stage1_heads", stage1Heads);
            rate("method.est.stage1_mlp", stage1Mlp);
            rate("method.est.stage2_heads", stage2Heads);
            rate("method.est.stage2_mlp", stage2Mlp);
        }
    }

    /** RaPTr's stages: path lengths (or "auto"), fixed first/last blocks, sampling and scaling. */
    public record Raptr(String pathLengths, boolean fixFirstLast, String sampling, String scale, String customScales) {
        void validate() {
            if (!pathLengths.equals("auto") && !pathLengths.matches("\\d+(\\.\\d+)?(-\\d+(\\.\\d+)?)*")) {
                throw new ConfigException("method.raptr.path_lengths: expected lengths joined by '-', e.g. \"4-5-6-8\", or auto; got '" + pathLengths + "'");
            }
            Check.oneOf("method.raptr.sampling", sampling, Set.of("bernoulli", "fixed"));
            Check.oneOf("method.raptr.scale", scale, RAPTR_SCALES);
            if (!scale.equals("custom") && !customScales.isBlank()) {
                throw new ConfigException("method.raptr.custom_scales: only read with method.raptr.scale: custom (scale is " + scale + ")");
            }
        }
    }

    /** Progressive layer dropping's keep schedule. */
    public record Pld(double thetaBar, double gamma) {
        void validate() {
            if (!(thetaBar > 0 && thetaBar <= 1)) throw new ConfigException("method.pld.theta_bar: must be in (0, 1], got " + thetaBar);
            Check.nonNegative("method.pld.gamma", gamma);
        }
    }

    /** Constant keep probability for every non-fixed block. */
    public record StochasticDepth(double keep, boolean fixFirstLast, String scale) {
        void validate() {
            if (!(keep > 0 && keep <= 1)) throw new ConfigException("method.stochastic_depth.keep: must be in (0, 1], got " + keep);
            Check.oneOf("method.stochastic_depth.scale", scale, SCALES);
        }
    }

    /** Incremental layer-wise training (arXiv 2411.18700): S stages adding blocks, then continual training. */
    public record Incremental(int stages, boolean freeze, String gradients, double incrementalFraction) {
        public static final Set<String> GRADIENTS = Set.of("through-frozen", "cut");

        void validate() {
            if (stages < 1) throw new ConfigException("method.incremental.stages: must be >= 1, got " + stages);
            Check.oneOf("method.incremental.gradients", gradients, GRADIENTS);
            if (!(incrementalFraction > 0 && incrementalFraction <= 1)) {
                throw new ConfigException("method.incremental.incremental_fraction: must be in (0, 1], got " + incrementalFraction);
            }
        }
    }

    /** Progressive or gradual stacking: the model grows through a list of depths, new blocks copied from the top. */
    public record Stacking(String depths, String optimizerState, boolean zeroInit, double growthFraction) {
        void validate() {
            if (!(growthFraction > 0 && growthFraction <= 1)) {
                throw new ConfigException("method.stacking.growth_fraction: must be in (0, 1], got " + growthFraction);
            }
            if (!depths.matches("\\d+(-\\d+)*")) {
                throw new ConfigException("method.stacking.depths: expected depths joined by '-', e.g. \"2-4-8\"; got '" + depths + "'");
            }
            Check.oneOf("method.stacking.optimizer_state", optimizerState, Set.of("copy", "reset"));
        }
    }

    /** Low-rank adapters on every block linear (lora, switchlora, relora): y = W x + (alpha / rank) B A x, W frozen. */
    public record Lora(int rank, double alpha) {
        void validate() {
            if (rank < 1) throw new ConfigException("method.lora.rank: must be >= 1, got " + rank);
            Check.positive("method.lora.alpha", alpha);
        }
    }

    /** SwitchLoRA's switching schedule, candidate choice and its ablation switches. */
    public record Switchlora(double interval0, double ratio, int freezeSteps, boolean resetState, boolean resetStep, boolean freeze,
                             boolean switching, String candidates) {
        public static final Set<String> CANDIDATES = Set.of("continuous", "random");

        void validate() {
            Check.oneOf("method.switchlora.candidates", candidates, CANDIDATES);
            Check.positive("method.switchlora.ratio", ratio);
            if (freezeSteps < 0) throw new ConfigException("method.switchlora.freeze_steps: must be >= 0, got " + freezeSteps);
            if (!(interval0 >= 2.0 * freezeSteps) || !(interval0 > 0)) {
                throw new ConfigException("method.switchlora.interval0: must be > 0 and at least 2 * freeze_steps = " + 2 * freezeSteps + ", got " + interval0);
            }
        }
    }

    /** ReLoRA's restarts. */
    public record Relora(int resetEvery, int restartWarmup) {
        void validate() {
            if (resetEvery < 1) throw new ConfigException("method.relora.reset_every: must be >= 1, got " + resetEvery);
            if (restartWarmup < 0) throw new ConfigException("method.relora.restart_warmup: must be >= 0, got " + restartWarmup);
        }
    }

    /** GaLore's projected optimizer state. */
    public record Galore(int rank, int updateEvery, double scale) {
        void validate() {
            if (rank < 1) throw new ConfigException("method.galore.rank: must be >= 1, got " + rank);
            if (updateEvery < 1) throw new ConfigException("method.galore.update_every: must be >= 1, got " + updateEvery);
            Check.positive("method.galore.scale", scale);
        }
    }

    /** The same settings with another method name. */
    public MethodConfig withName(String other) {
        return new MethodConfig(other, optimizerSlices, est, raptr, pld, stochasticDepth, incremental, stacking, lora, switchlora, relora, galore);
    }

    public void validate() {
        Check.oneOf("method.name", name, NAMES);
        Check.oneOf("method.optimizer_slices", optimizerSlices, Set.of("masked", "dense"));
        est.validate();
        raptr.validate();
        pld.validate();
        stochasticDepth.validate();
        incremental.validate();
        stacking.validate();
        lora.validate();
        switchlora.validate();
        relora.validate();
        galore.validate();
    }

    private static void fraction(String key, double v) {
        if (!(v >= 0 && v <= 1)) throw new ConfigException(key + ": must be in [0, 1], got " + v);
    }

    private static void rate(String key, double v) {
        if (!(v > 0 && v <= 1)) throw new ConfigException(key + ": must be in (0, 1], got " + v);
    }
}
