package dev.sprout.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sprout.config.ConfigLoader;
import dev.sprout.config.ModelConfig;
import dev.sprout.config.SproutConfig;
import dev.sprout.model.Transformer;
import dev.sprout.subnet.SubnetPlan;
import dev.sprout.tensor.Tensors;
import java.io.IOException;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The tiny models of the Hugging Face golden test (scripts/golden/hf_golden.py) and their weights. Sprout's own models get
 * every parameter from a splitmix64 stream in Java (biases and norm weights included, unlike the default initialisation,
 * so a misplaced bias or norm shows): the same on every machine and JDK, which libtorch's randn is not guaranteed to be,
 * so their exports are byte-identical everywhere and can be compared with the committed folders.
 */
public final class HfTestModels {
    public static final Device CPU = new Device("cpu");
    /** The committed golden folders (src/test/resources/golden/hf) and results (golden/hf_golden.json). */
    public static final Path GOLDEN = Path.of("src", "test", "resources", "golden");

    private HfTestModels() {}

    /** Sprout's tiny GPT-2 as exported to golden/hf/sprout_gpt2: a position table longer than the context, tied head. */
    public static ModelConfig sproutGpt2() {
        return resolved(new ModelConfig("gpt2", 2, 2, 0, 8, 32, 64, 5, 7, 11, "auto", 1e-5, 10000, 0.02));
    }

    /** Sprout's tiny Llama as exported to golden/hf/sprout_llama: 4 query heads over 2 key/value heads, untied head. */
    public static ModelConfig sproutLlama() {
        return resolved(new ModelConfig("llama", 2, 4, 2, 16, 24, 64, 6, 0, 13, "auto", 1e-5, 10000, 0.02));
    }

    /** The model that the script's own GPT-2 folder (golden/hf/torch_gpt2) describes: n_inner absent (4 n_embd). */
    public static ModelConfig torchGpt2() {
        return resolved(new ModelConfig("gpt2", 2, 4, 0, 16, 64, 64, 6, 9, 17, "auto", 1e-5, 10000, 0.02));
    }

    /** The model that the script's Llama folder (golden/hf/torch_llama) describes: one key/value head of 4, tied, theta 5e5. */
    public static ModelConfig torchLlama() {
        return resolved(new ModelConfig("llama", 2, 4, 1, 16, 40, 64, 8, 0, 19, "true", 1e-6, 500000, 0.02));
    }

    static ModelConfig resolved(ModelConfig m) {
        m.validate();
        return m.resolve(m.vocabSize());
    }

    /** A run configuration (the defaults) with this model. */
    public static SproutConfig run(ModelConfig m) {
        return ConfigLoader.bind(ConfigLoader.defaults()).withModel(m);
    }

    /** A model whose every parameter comes from splitmix64(seed): matrices uniform in +-0.5, biases +-0.1, norm weights 1 +- 0.2. */
    public static Transformer seeded(ModelConfig m, long seed) {
        Transformer model = new Transformer(m, CPU, seed);
        long[] state = {seed};
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            for (var e : model.parameters().entrySet()) {
                String name = e.getKey();
                Tensor p = e.getValue();
                boolean norm = name.endsWith("norm.weight"), bias = name.endsWith(".bias");
                double center = norm ? 1 : 0, scale = norm ? 0.2 : bias ? 0.1 : 0.5;
                float[] v = new float[(int) p.numel()];
                for (int i = 0; i < v.length; i++) v[i] = (float) (center + scale * (2 * uniform(state) - 1));
                p.copy_(torch.tensor(v).view(p.sizes().vec().get()));
            }
        }
        return model;
    }

    /** splitmix64's next value as a double in [0, 1). */
    private static double uniform(long[] state) {
        long z = (state[0] += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (z >>> 11) * 0x1.0p-53;
    }

    /** The full model's logits [B,T,V] on the token rows, flattened. */
    public static float[] logits(Transformer model, JsonNode rows) {
        int b = rows.size(), t = rows.get(0).size();
        long[] ids = new long[b * t];
        for (int i = 0; i < b; i++) for (int j = 0; j < t; j++) ids[i * t + j] = rows.get(i).get(j).asLong();
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            return Tensors.toFloats(model.logits(Tensors.longTensor(ids, CPU, b, t), SubnetPlan.full(model.config().nLayer())));
        }
    }

    /** hf_golden.json's entry for a case. */
    public static JsonNode golden(String name) throws IOException {
        JsonNode all = new ObjectMapper().readTree(GOLDEN.resolve("hf_golden.json").toFile());
        JsonNode g = all.get(name);
        if (g == null) throw new IllegalStateException("hf_golden.json has no case " + name);
        return g;
    }
}
