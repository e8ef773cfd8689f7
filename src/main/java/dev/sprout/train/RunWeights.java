package dev.sprout.train;

import dev.sprout.config.ConfigException;
import dev.sprout.config.ConfigLoader;
import dev.sprout.config.SproutConfig;
import dev.sprout.hf.HfImport;
import dev.sprout.method.Methods;
import dev.sprout.model.Transformer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * A run's newest weights as a dense model: every parameter of the plain architecture, with each adapted linear's
 * weight merged (W + s B A). What `export` writes and what `train --init-from` starts from, whatever method trained
 * the run. {@code train --init-from} also reads a Hugging Face transformers folder ({@link #initFrom}).
 *
 * @param config the run's resolved configuration
 * @param step   the checkpoint's step
 * @param dense  the dense model's parameters by name (on the CPU), in the model's order
 */
public record RunWeights(SproutConfig config, long step, Map<String, Tensor> dense) {
    /**
     * The weights a new run of {@code target} starts from: a Sprout run's (or export's) newest, checked against the run's
     * model, or a Hugging Face folder's (config.json and model.safetensors: {@link HfImport}), whose config.json must
     * describe the run's model. Those weights then carry the run's own config and step 0.
     *
     * @param option the option that named the source, for errors
     */
    public static RunWeights initFrom(Path source, SproutConfig target, String option) {
        if (HfImport.isHfFolder(source)) return new RunWeights(target, 0, HfImport.read(source, target.model(), option));
        if (!Files.isRegularFile(source.resolve("config.yaml"))) {
            String hint = Files.isRegularFile(source.resolve("config.json"))
                    ? " (it has config.json but no model.safetensors: sharded and pytorch_model.bin checkpoints are not read)" : "";
            throw new ConfigException(option + ": " + source + " is neither a Sprout run (config.yaml) nor a Hugging Face folder (config.json and model.safetensors)" + hint);
        }
        RunWeights w = read(source);
        w.checkModel(target.model(), option);
        return w;
    }

    public static RunWeights read(Path run) {
        if (!Files.isRegularFile(run.resolve("config.yaml"))) throw new ConfigException(run + " is not a run folder (no config.yaml)");
        SproutConfig cfg = ConfigLoader.bind(ConfigLoader.readYaml(run.resolve("config.yaml")));
        Checkpoints.Loaded ck = new Checkpoints(run.resolve("checkpoints"), Integer.MAX_VALUE).latestIntact(System.err::println);
        if (ck == null) throw new CheckpointException("no intact checkpoint in " + run.resolve("checkpoints"));
        Transformer model = new Transformer(cfg.model(), new Device("cpu"), cfg.seed());
        Methods.build(cfg).setup(model); // the run's adapters, so every checkpointed tensor has a home
        Map<String, Tensor> dense = new LinkedHashMap<>();
        try (NoGradGuard ng = new NoGradGuard()) {
            try (PointerScope scope = new PointerScope()) {
                for (var e : model.parameters().entrySet()) Checkpoints.copyInto(ck, "param." + e.getKey(), e.getValue());
            }
            for (String name : model.parameters().keySet()) {
                if (name.endsWith(".lora_a") || name.endsWith(".lora_b")) continue;
                String linear = name.endsWith(".weight") ? name.substring(0, name.length() - ".weight".length()) : null;
                dense.put(name, linear != null && model.adapters().containsKey(linear) ? model.effectiveWeight(linear) : model.param(name).detach().clone());
            }
        }
        return new RunWeights(cfg, ck.state().path("step").asLong(), dense);
    }

    /** Fails, naming the first difference, unless a model of this config can take these weights. */
    public void checkModel(dev.sprout.config.ModelConfig target, String option) {
        String diff;
        try {
            diff = ConfigDiff.first(ConfigLoader.YAML.writeValueAsString(Map.of("model", config.model())),
                    ConfigLoader.YAML.writeValueAsString(Map.of("model", target)));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        if (diff != null) throw new ConfigException(option + ": the source run's model differs from this run's (" + diff + ")");
    }

    /** Copies the weights into a model of the same architecture (the caller's run), naming the first difference. */
    public void copyInto(Transformer model, String option) {
        checkModel(model.config(), option);
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            for (var e : dense.entrySet()) model.param(e.getKey()).copy_(e.getValue());
        }
    }
}
