package dev.sprout.cli;

import static dev.sprout.cli.CliRun.assertUserError;
import static dev.sprout.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sprout.config.ConfigLoader;
import dev.sprout.config.SproutConfig;
import dev.sprout.tensor.Tensors;
import dev.sprout.train.RunWeights;
import dev.sprout.train.TestRuns;
import dev.sprout.train.Trainer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * export --format hf writes a run's merged weights as a Hugging Face folder; train --init-from reads it back bit for bit;
 * bad inputs are one-line errors. Runs on a small generated corpus (no shared data needed).
 */
class HfExportCommandTest {
    @TempDir
    Path tmp;
    Path data;

    @BeforeEach
    void corpus() throws IOException {
        StringBuilder text = new StringBuilder();
        long s = 7;
        while (text.length() < 40_000) {
            s = s * 6364136223846793005L + 1442695040888963407L;
            int r = (int) ((s >>> 33) % 30);
            text.append(r < 26 ? (char) ('a' + r) : r < 29 ? ' ' : '\n');
        }
        Path in = tmp.resolve("corpus.txt");
        Files.writeString(in, text);
        data = tmp.resolve("data");
        assertEquals(0, Sprout.execute("prepare", "--input", in.toString(), "--tokenizer", "char", "--out", data.toString()));
    }

    private static void assertBitIdentical(Map<String, Tensor> want, Map<String, Tensor> got, String what) {
        assertEquals(want.keySet(), got.keySet(), what);
        for (var e : want.entrySet()) {
            float[] a = Tensors.toFloats(e.getValue()), b = Tensors.toFloats(got.get(e.getKey()));
            assertEquals(a.length, b.length, what + " " + e.getKey());
            for (int i = 0; i < a.length; i++) {
                if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
                    throw new AssertionError(what + ": " + e.getKey() + "[" + i + "] " + a[i] + " vs " + b[i]);
                }
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"gpt2, baseline", "llama, lora"})
    void exportToHfAndInitFromItKeepsEveryWeight(String family, String method) throws Exception {
        Path cfg = TestRuns.tinyConfig(tmp, family), run = tmp.resolve("run"), hf = tmp.resolve("hf"), sprout = tmp.resolve("dense");
        assertEquals(0, Sprout.execute("train", "--config", cfg.toString(), "--data", data.toString(), "--out", run.toString(), "--max-steps", "3",
                "--set", "method.name=" + method, "--set", "method.lora.rank=4"));
        CliRun.Outcome exported = run("export", "--run", run.toString(), "--out", hf.toString(), "--format", "hf");
        assertEquals(0, exported.code(), exported.err());
        try (Stream<Path> files = Files.list(hf)) {
            assertEquals(List.of("config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"),
                    files.map(p -> p.getFileName().toString()).sorted().toList());
        }
        try (Stream<Path> files = Files.list(tmp)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().contains(".tmp")), "no temporary folder is left behind");
        }
        JsonNode config = new ObjectMapper().readTree(hf.resolve("config.json").toFile());
        assertEquals(family, config.get("model_type").asText());
        assertTrue(config.get("eos_token_id").isNull(), "a char vocabulary has no end-of-text token");
        assertEquals(0, Sprout.execute("export", "--run", run.toString(), "--out", sprout.toString()));

        // Sprout -> HF -> Sprout: the merged weights, bit for bit, through the reader train --init-from uses
        RunWeights merged = RunWeights.read(run);
        SproutConfig dense = merged.config().withMethod(merged.config().method().withName("baseline"));
        assertBitIdentical(merged.dense(), RunWeights.initFrom(hf, dense, "--init-from").dense(), "HF folder");
        assertBitIdentical(merged.dense(), RunWeights.read(sprout).dense(), "Sprout export");

        // a new run from the HF folder starts from exactly those weights
        Path next = tmp.resolve("next");
        try (Trainer t = Trainer.open(new Trainer.Options(cfg, data, next, List.of(), null, false, hf), new PrintStream(PrintStream.nullOutputStream()), false)) {
            assertBitIdentical(merged.dense(), t.model().parameters(), "the new run's initial weights");
        }
        assertTrue(Files.readString(next.resolve("run.json")).contains(hf.getFileName().toString()), "run.json remembers the source");

        String heads = family.equals("gpt2") ? "n_head" : "num_attention_heads";
        assertUserError(run("train", "--config", cfg.toString(), "--data", data.toString(), "--out", tmp.resolve("bad").toString(),
                "--set", "model.n_head=4", "--init-from", hf.toString()), "--init-from " + hf + ": config.json's " + heads + " 2 does not match model.n_head 4");
        assertFalse(Files.exists(tmp.resolve("bad").resolve("config.yaml")), "a rejected run writes nothing");
        assertUserError(run("export", "--run", run.toString(), "--out", hf.toString(), "--format", "hf"), "--out: " + hf + " already exists");
        assertUserError(run("export", "--run", run.toString(), "--out", tmp.resolve("x").toString(), "--format", "onnx"), "--format: expected sprout | hf, found 'onnx'");
        assertFalse(Files.exists(tmp.resolve("x")));
        Path half = Files.createDirectories(tmp.resolve("half"));
        Files.copy(hf.resolve("config.json"), half.resolve("config.json"));
        assertUserError(run("train", "--config", cfg.toString(), "--data", data.toString(), "--out", tmp.resolve("bad2").toString(), "--init-from", half.toString()),
                "it has config.json but no model.safetensors");
        SproutConfig loaded = ConfigLoader.bind(ConfigLoader.readYaml(sprout.resolve("config.yaml")));
        assertEquals("baseline", loaded.method().name(), "the Sprout export is a dense model");
    }
}
