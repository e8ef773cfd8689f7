package dev.sprout.config;

import java.util.regex.Pattern;

/** A whole run's configuration: one record per YAML section, every key defaulted in sprout/defaults.yaml. */
public record SproutConfig(long seed, String device, int threads, ModelConfig model, DataConfig data, TrainConfig train,
                           OptimConfig optim, CheckpointConfig checkpoint, FlopsConfig flops, MethodConfig method, DistConfig dist) {
    private static final Pattern DEVICE = Pattern.compile("cpu|cuda(:\\d+)?");

    public void validate() {
        if (device == null || !DEVICE.matcher(device).matches()) {
            throw new ConfigException("device: must be cpu, cuda or cuda:N, got '" + device + "'");
        }
        Check.nonNegative("threads", threads);
        model.validate();
        data.validate();
        train.validate();
        optim.validate();
        checkpoint.validate();
        flops.validate();
        method.validate();
        dist.validate();
    }

    public SproutConfig withMethod(MethodConfig m) {
        return new SproutConfig(seed, device, threads, model, data, train, optim, checkpoint, flops, m, dist);
    }

    public SproutConfig withModel(ModelConfig m) {
        return new SproutConfig(seed, device, threads, m, data, train, optim, checkpoint, flops, method, dist);
    }
}
