package dev.sprout.cli;

import static dev.sprout.cli.CliRun.assertUserError;
import static dev.sprout.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sprout.data.HfTestTokenizers;
import dev.sprout.data.TokenDataset;
import dev.sprout.data.Tokenizer;
import dev.sprout.data.TokenizerFiles;
import dev.sprout.train.Checkpoints;
import dev.sprout.train.TestRuns;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * prepare --tokenizer hf:PATH end to end: a byte-level BPE tokenizer.json made here prepares data, trains a few steps of a
 * tiny Llama, samples, evaluates and exports (both formats) with nothing but the run folder; bad tokenizer files and a
 * vocabulary larger than the model are one-line errors.
 */
class HfTokenizerRunTest {
    @TempDir
    Path tmp;

    static final String[] WORDS = {"the", "cat", "and", "hat", "sat", "on", "mat", "in", "a", "sun", "is", "warm", "we", "were", "singing",
            "over", "there", "reading", "stories", "or", "ending", "them", "at", "once"};

    /** English-like documents from a small word list, so the tokenizer's merges see use. */
    private Path corpus(String name, int docs, int chars, long seed) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        long s = seed;
        for (int d = 0; d < docs; d++) {
            StringBuilder sb = new StringBuilder();
            while (sb.length() < chars) {
                s = s * 6364136223846793005L + 1442695040888963407L;
                sb.append(WORDS[(int) ((s >>> 33) % WORDS.length)]).append((s & 15) == 0 ? ".\n" : " ");
            }
            Files.writeString(dir.resolve("doc" + d + ".txt"), sb.toString());
        }
        return dir;
    }

    @Test
    void anHfTokenizerPreparesTrainsSamplesEvaluatesAndExports() throws Exception {
        Path file = HfTestTokenizers.byteLevelBpe(tmp.resolve("tok/tokenizer.json"), true);
        byte[] original = Files.readAllBytes(file);
        Path data = tmp.resolve("data");
        CliRun.Outcome prepared = run("prepare", "--input", corpus("text", 4, 15_000, 1).toString(), "--tokenizer", "hf:" + file, "--out", data.toString());
        assertEquals(0, prepared.code(), prepared.err());
        assertTrue(prepared.out().contains("documents separated by its end-of-text token '<|endoftext|>' (id " + HfTestTokenizers.END_OF_TEXT_ID), prepared.out());
        assertTrue(prepared.out().contains("hf tokenizer, vocabulary " + (HfTestTokenizers.END_OF_TEXT_ID + 1)), prepared.out());

        Path cfg = TestRuns.tinyConfig(tmp, "llama"), run = tmp.resolve("run");
        CliRun.Outcome trained = run("train", "--config", cfg.toString(), "--data", data.toString(), "--out", run.toString(), "--max-steps", "3");
        assertEquals(0, trained.code(), trained.err());
        assertArrayEquals(original, Files.readAllBytes(run.resolve("tokenizer.json")), "the run keeps the tokenizer.json itself");
        Tokenizer own = TokenizerFiles.read(run);
        assertEquals("hf", own.name());
        assertEquals(dev.sprout.data.HfTestTokenizers.sha256(original), own.spec().sha256());
        JsonNode state = Checkpoints.load(new Checkpoints(run.resolve("checkpoints"), 9).list().get(0)).state();
        assertEquals(own.spec().sha256(), state.get("tokenizer").get("tokenizer_sha256").asText(), "checkpoints record the description");

        Files.delete(file); // from here on the run folder is all that is needed
        CliRun.Outcome sampled = run("sample", "--run", run.toString(), "--prompt", "the cat", "--tokens", "40", "--seed", "3");
        assertEquals(0, sampled.code(), sampled.err());
        assertTrue(sampled.out().startsWith("the cat") && sampled.out().length() > 20, sampled.out());
        CliRun.Outcome evaluated = run("eval", "--run", run.toString());
        assertEquals(0, evaluated.code(), evaluated.err());

        Path sprout = tmp.resolve("export"), hf = tmp.resolve("export-hf");
        assertEquals(0, run("export", "--run", run.toString(), "--out", sprout.toString()).code());
        assertArrayEquals(original, Files.readAllBytes(sprout.resolve("tokenizer.json")));
        CliRun.Outcome fromExport = run("sample", "--run", sprout.toString(), "--prompt", "the cat", "--tokens", "40", "--seed", "3");
        assertEquals(sampled.out(), fromExport.out(), "the export samples as the run does");
        CliRun.Outcome hfExport = run("export", "--run", run.toString(), "--out", hf.toString(), "--format", "hf");
        assertEquals(0, hfExport.code(), hfExport.err());
        assertArrayEquals(original, Files.readAllBytes(hf.resolve("tokenizer.json")), "the HF folder's tokenizer.json is the run's");
        ObjectMapper json = new ObjectMapper();
        assertEquals(HfTestTokenizers.END_OF_TEXT, json.readTree(hf.resolve("tokenizer_config.json").toFile()).get("eos_token").asText());
        assertEquals(HfTestTokenizers.END_OF_TEXT_ID, json.readTree(hf.resolve("config.json").toFile()).get("eos_token_id").asInt());

        // eval compares hf tokenizers by their file: data prepared with another tokenizer.json is refused
        Path otherFile = HfTestTokenizers.byteLevelBpe(tmp.resolve("other-tok/tokenizer.json"), false);
        Path otherData = tmp.resolve("other-data");
        assertEquals(0, run("prepare", "--input", corpus("other", 2, 15_000, 2).toString(), "--tokenizer", "hf:" + otherFile, "--out", otherData.toString()).code());
        assertUserError(run("eval", "--run", run.toString(), "--data", otherData.toString()), "prepared with another tokenizer than the run's (hf");
        Path sameData = tmp.resolve("same-data");
        assertEquals(0, run("prepare", "--input", corpus("same", 2, 15_000, 3).toString(), "--tokenizer", "hf:" + run.resolve("tokenizer.json"),
                "--out", sameData.toString()).code());
        assertEquals(0, run("eval", "--run", run.toString(), "--data", sameData.toString()).code(), "other text through the run's own tokenizer.json");

        // a model whose vocabulary is smaller than the tokenizer's
        assertUserError(run("train", "--config", cfg.toString(), "--data", data.toString(), "--out", tmp.resolve("small").toString(), "--set", "model.vocab_size=100"),
                "model.vocab_size: 100 is smaller than the vocabulary of " + data + " (" + (HfTestTokenizers.END_OF_TEXT_ID + 1) + " tokens)");
        assertFalse(Files.exists(tmp.resolve("small").resolve("config.yaml")));
        assertEquals(HfTestTokenizers.END_OF_TEXT_ID + 1, TokenDataset.open(data).vocabSize());
    }

    @Test
    void badTokenizerFilesAreOneLineErrors() throws IOException {
        Path text = corpus("text", 1, 2_000, 1);
        Path missing = tmp.resolve("nowhere/tokenizer.json");
        assertUserError(run("prepare", "--input", text.toString(), "--tokenizer", "hf:" + missing, "--out", tmp.resolve("d").toString()),
                missing + ": tokenizer file not found");
        Path notJson = Files.writeString(tmp.resolve("vocab.txt"), "the\ncat\n");
        assertUserError(run("prepare", "--input", text.toString(), "--tokenizer", "hf:" + notJson, "--out", tmp.resolve("d").toString()),
                notJson + ": not a JSON file");
        Path notTokenizer = Files.writeString(tmp.resolve("config.json"), "{\"model_type\": \"llama\"}");
        assertUserError(run("prepare", "--input", text.toString(), "--tokenizer", "hf:" + notTokenizer, "--out", tmp.resolve("d").toString()),
                notTokenizer + ": not a Hugging Face tokenizer.json");
        assertUserError(run("prepare", "--input", text.toString(), "--tokenizer", "hf:", "--out", tmp.resolve("d").toString()),
                "tokenizer: expected char | byte | gpt2 | hf:PATH");
        assertFalse(Files.exists(tmp.resolve("d")), "nothing written");
    }
}
