package dev.sprout.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sprout.config.ModelConfig;
import dev.sprout.model.Transformer;
import dev.sprout.train.RunWeights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Sprout's Hugging Face folders against an independent float64 implementation of transformers' GPT2LMHeadModel and
 * LlamaForCausalLM (scripts/golden/hf_golden.py, results committed in src/test/resources/golden/): Sprout's exports of two
 * tiny seeded models compute, under HF's definitions, the logits Sprout computes; and folders that the script wrote with
 * its own weights load into Sprout (through train --init-from's reader) and compute the script's logits.
 *
 * <p>To regenerate: {@code mvn -B -o test -Dtest=HfGoldenTest#sproutsExportIsTheCommittedFolder -Dsprout.golden.write=true} (rewrites golden/hf/sprout_*),
 * then {@code /usr/bin/python3 scripts/golden/hf_golden.py} (writes golden/hf/torch_* and golden/hf_golden.json).
 */
class HfGoldenTest {
    static final double TOL = 1e-4;

    @TempDir
    Path tmp;

    static ModelConfig sprout(String family) {
        return family.equals("gpt2") ? HfTestModels.sproutGpt2() : HfTestModels.sproutLlama();
    }

    static long seed(String family) {
        return family.equals("gpt2") ? 11 : 13;
    }

    /** The export of the seeded model is deterministic: byte for byte the committed folder that the script read. */
    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama"})
    void sproutsExportIsTheCommittedFolder(String family) throws IOException {
        ModelConfig m = sprout(family);
        Transformer model = HfTestModels.seeded(m, seed(family));
        Path committed = HfTestModels.GOLDEN.resolve("hf").resolve("sprout_" + family);
        if (Boolean.getBoolean("sprout.golden.write")) {
            if (Files.exists(committed)) {
                try (Stream<Path> s = Files.walk(committed)) {
                    for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
                }
            }
            Files.createDirectories(committed);
            HfExport.write(committed, m, model.parameters(), -1);
            return;
        }
        Path out = Files.createDirectories(tmp.resolve(family));
        List<Path> files = HfExport.write(out, m, model.parameters(), -1);
        assertEquals(3, files.size());
        for (Path f : files) {
            assertArrayEquals(Files.readAllBytes(committed.resolve(f.getFileName())), Files.readAllBytes(f), f.getFileName() + " differs from the committed export");
        }
    }

    /** HF's definitions on Sprout's export compute Sprout's logits. */
    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama"})
    void sproutsLogitsAreHfsLogitsOfItsExport(String family) throws IOException {
        JsonNode g = HfTestModels.golden("sprout_" + family);
        Transformer model = HfTestModels.seeded(sprout(family), seed(family));
        assertClose(g.get("logits"), HfTestModels.logits(model, g.get("idx")), "sprout_" + family);
    }

    /** A folder written by the script (its own weights, names and dtypes) loads through --init-from's reader and computes its logits. */
    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama"})
    void hfFoldersLoadAndComputeHfsLogits(String family) throws IOException {
        JsonNode g = HfTestModels.golden("torch_" + family);
        ModelConfig m = family.equals("gpt2") ? HfTestModels.torchGpt2() : HfTestModels.torchLlama();
        Path dir = HfTestModels.GOLDEN.resolve("hf").resolve("torch_" + family);
        assertTrue(HfImport.isHfFolder(dir), dir + " is an HF folder");
        RunWeights w = RunWeights.initFrom(dir, HfTestModels.run(m), "--init-from");
        Transformer model = new Transformer(m, HfTestModels.CPU, 1);
        w.copyInto(model, "--init-from");
        assertClose(g.get("logits"), HfTestModels.logits(model, g.get("idx")), "torch_" + family);
    }

    static void assertClose(JsonNode expected, float[] actual, String what) {
        JsonNode data = expected.get("data");
        assertEquals(data.size(), actual.length, what + ": logits size");
        double worst = 0;
        for (int i = 0; i < actual.length; i++) {
            double d = Math.abs(actual[i] - data.get(i).asDouble());
            worst = Math.max(worst, d);
            assertTrue(d <= TOL, what + ": logit " + i + " is " + actual[i] + ", reference " + data.get(i).asDouble());
        }
        System.out.printf("%s: max |logit difference| %.3g%n", what, worst);
    }
}
