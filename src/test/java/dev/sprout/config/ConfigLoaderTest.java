package dev.sprout.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    private Path yaml(String text) throws IOException {
        Path p = dir.resolve("c.yaml");
        Files.writeString(p, text);
        return p;
    }

    private String error(String text, String... sets) throws IOException {
        Path p = yaml(text);
        return assertThrows(ConfigException.class, () -> ConfigLoader.load(p, List.of(sets))).getMessage();
    }

    @Test
    void defaultsFillEverythingAndOverridesApplyInOrder() throws IOException {
        SproutConfig c = ConfigLoader.load(yaml("model:\n  n_layer: 6\ntrain:\n  batch_size: 8\n"),
                List.of("train.grad_accum=4", "seed=7", "checkpoint.every=50", "optim.lr=3e-4"));
        assertEquals(6, c.model().nLayer());
        assertEquals(8, c.train().batchSize());
        assertEquals(4, c.train().gradAccum());
        assertEquals(7, c.seed());
        assertEquals(50, c.checkpoint().every());
        assertEquals(3e-4, c.optim().lr());
        assertEquals(128, c.model().dModel()); // untouched default
    }

    @Test
    void unknownKeysAreNamedWithASuggestion() throws IOException {
        String m = error("model:\n  n_layers: 6\n");
        assertTrue(m.contains("model.n_layers") && m.contains("did you mean 'model.n_layer'"), m);
        assertTrue(error("modle:\n  n_layer: 6\n").contains("'modle'"));
        assertTrue(error("", "train.grad_acum=2").contains("train.grad_acum"));
    }

    @Test
    void impossibleValuesNameTheKey() throws IOException {
        assertTrue(error("model:\n  n_head: 5\n").startsWith("model.n_head"));
        assertTrue(error("model:\n  context: 128\n  max_positions: 64\n").contains("position table"));
        assertTrue(error("optim:\n  lr: -1\n").startsWith("optim.lr"));
        assertTrue(error("model:\n  family: bert\n").startsWith("model.family"));
        assertTrue(error("model:\n  n_layer: many\n").startsWith("model.n_layer: expected an integer"));
        assertTrue(error("", "train.batch_size=0").startsWith("train.batch_size"));
        assertTrue(error("model:\n  family: gpt2\n  n_kv_head: 2\n").startsWith("model.n_kv_head"));
        assertTrue(error("model: [1, 2]\n").contains("model"));
        assertTrue(error("model:\n  n_layer: [1\n").contains("invalid YAML"));
    }

    @Test
    void vocabularyResolutionRejectsATooSmallVocabulary() throws IOException {
        SproutConfig c = ConfigLoader.load(yaml("model:\n  vocab_size: 50\n"), List.of());
        ConfigException e = assertThrows(ConfigException.class, () -> c.model().resolve(65));
        assertTrue(e.getMessage().startsWith("model.vocab_size"), e.getMessage());
        assertEquals(65, ConfigLoader.load(null, List.of()).model().resolve(65).vocabSize());
    }

    @Test
    void resolvedConfigRoundTripsThroughYaml() throws IOException {
        SproutConfig c = ConfigLoader.load(yaml("model:\n  family: llama\n  n_head: 4\n  n_kv_head: 2\n"), List.of());
        SproutConfig r = c.withModel(c.model().resolve(100));
        SproutConfig back = ConfigLoader.bind(ConfigLoader.YAML.readTree(ConfigLoader.toYaml(r)));
        assertEquals(r, back);
        assertEquals(384, r.model().ffDim()); // 8/3 * 128 = 341.3, rounded up to a multiple of 64
    }

    @Test
    void aConfigCanStartFromABaseFile() throws IOException {
        Files.writeString(dir.resolve("common.yaml"), "model:\n  n_layer: 6\n  d_model: 96\ntrain:\n  max_steps: 300\n");
        Path child = dir.resolve("child.yaml");
        Files.writeString(child, "base: common.yaml\nmodel:\n  d_model: 192\n");
        SproutConfig c = ConfigLoader.load(child, List.of());
        assertEquals(6, c.model().nLayer());
        assertEquals(192, c.model().dModel(), "the file overrides its base");
        assertEquals(300, c.train().maxSteps());
        Files.writeString(dir.resolve("common.yaml"), "base: child.yaml\n");
        assertTrue(assertThrows(ConfigException.class, () -> ConfigLoader.load(child, List.of())).getMessage().contains("include each other"));
    }

    @Test
    void everyShippedConfigLoads() throws IOException {
        try (Stream<Path> files = Files.walk(Path.of("configs"))) {
            List<Path> all = files.filter(p -> p.toString().endsWith(".yaml")).toList();
            assertTrue(all.size() >= 5, "configs/ should hold the presets");
            for (Path p : all) {
                SproutConfig c = ConfigLoader.load(p, List.of());
                c.withModel(c.model().resolve(c.model().vocabSize() == 0 ? 256 : c.model().vocabSize())).validate();
            }
        }
    }
}
