package dev.sprout.model;

import dev.sprout.config.ModelConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sprout.config.ConfigLoader;
import dev.sprout.config.SproutConfig;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/** The presets build models of the published sizes. */
class PresetsTest {
    static long count(Transformer m) {
        return m.parameters().values().stream().mapToLong(Tensor::numel).sum();
    }

    static ModelConfig preset(String file, int vocab) {
        SproutConfig c = ConfigLoader.load(Path.of("configs", file), List.of());
        return c.model().resolve(vocab);
    }

    @Test
    void gpt2SmallHas124MParameters() {
        ModelConfig m = preset("gpt2-124m.yaml", 50257);
        assertEquals(124_475_904L, m.paramCount()); // nanoGPT prints 123.69M: the same less the 786,432 position embeddings
    }

    @Test
    void tinyLlamaConstructsWith1100MParameters() {
        ModelConfig m = preset("tinyllama-1.1b.yaml", 32000);
        assertEquals(1_100_048_384L, m.paramCount()); // TinyLlama-1.1B's published count
        Transformer model = new Transformer(m, new Device("cpu"), 0);
        assertEquals(m.paramCount(), count(model));
        assertEquals(22 * 9 + 3, model.parameters().size());
    }

    @Test
    void smallPresetsCountWhatTheyBuild() {
        for (String f : List.of("shakespeare-char.yaml", "bench.yaml", "llama-tiny.yaml")) {
            ModelConfig m = preset(f, 65);
            if (m.vocabSize() < 65) continue;
            assertEquals(m.paramCount(), count(new Transformer(m, new Device("cpu"), 0)), f);
        }
    }
}
