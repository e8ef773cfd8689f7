package dev.sprout.cli;

import static dev.sprout.cli.CliRun.assertUserError;
import static dev.sprout.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sprout.data.CharTokenizer;
import dev.sprout.data.TokenDataset;
import dev.sprout.data.TokenizerFiles;
import dev.sprout.train.Checkpoints;
import dev.sprout.train.TestRuns;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run owns its tokenizer: sample, export and eval decode with the run's vocabulary whatever happens to its data folder
 * later; prepare refuses to replace a data folder without --force; runs from before runs kept their tokenizer fall back to
 * their data folder only while it is the data they trained on.
 */
class RunTokenizerTest {
    @TempDir
    Path tmp;

    /** A deterministic text of {@code n} chars drawn from {@code alphabet}. */
    static String text(String alphabet, int n, long seed) {
        StringBuilder sb = new StringBuilder(n);
        long s = seed;
        while (sb.length() < n) {
            s = s * 6364136223846793005L + 1442695040888963407L;
            sb.append(alphabet.charAt((int) ((s >>> 33) % alphabet.length())));
        }
        return sb.toString();
    }

    private Path prepare(String text, String tokenizer, Path out, String... more) throws IOException {
        Path in = tmp.resolve("in-" + Long.toHexString(System.nanoTime()) + ".txt");
        Files.writeString(in, text);
        List<String> args = new java.util.ArrayList<>(List.of("prepare", "--input", in.toString(), "--tokenizer", tokenizer, "--out", out.toString()));
        args.addAll(List.of(more));
        CliRun.Outcome o = run(args.toArray(String[]::new));
        assertEquals(0, o.code(), o.err());
        return out;
    }

    private static String sample(Path run) {
        CliRun.Outcome o = run("sample", "--run", run.toString(), "--prompt", "the ", "--tokens", "60", "--seed", "7");
        assertEquals(0, o.code(), o.err());
        return o.out();
    }

    /** A copy of a run folder as runs were before they kept their tokenizer. */
    private Path olderCopy(Path run, String name) throws IOException {
        Path copy = tmp.resolve(name);
        try (Stream<Path> s = Files.walk(run)) {
            for (Path p : s.sorted(Comparator.naturalOrder()).toList()) {
                Path to = copy.resolve(run.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(to); else Files.copy(p, to, StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
        Files.delete(copy.resolve(TokenizerFiles.SPEC));
        return copy;
    }

    @Test
    void sampleDecodesWithTheRunsOwnVocabularyAfterItsDataIsPreparedAgain() throws Exception {
        String letters = "abcdefghijklmnopqrstuvwxyz      \n";
        Path data = prepare(text(letters, 40_000, 3), "char", tmp.resolve("data"));
        Path cfg = TestRuns.tinyConfig(tmp, "gpt2"), run = tmp.resolve("run");
        assertEquals(0, Sprout.execute("train", "--config", cfg.toString(), "--data", data.toString(), "--out", run.toString(), "--max-steps", "3"));

        // the run keeps its tokenizer, and every checkpoint names it
        CharTokenizer own = (CharTokenizer) TokenizerFiles.read(run);
        assertEquals(TokenDataset.open(data).tokenizer().spec(), own.spec());
        JsonNode state = Checkpoints.load(new Checkpoints(run.resolve("checkpoints"), 9).list().get(0)).state();
        assertEquals("char", state.get("tokenizer").get("tokenizer").asText());
        assertEquals(own.vocabSize(), state.get("tokenizer").get("char_vocab").size());

        Path older = olderCopy(run, "older"), resumed = olderCopy(run, "resumed");
        String before = sample(run);
        assertTrue(before.startsWith("the ") && before.length() > 40, before);
        assertEquals(before, sample(older), "an older run decodes through its data folder while that is the data it trained on");
        // resuming an older run gives it its tokenizer, from data verifiably its own
        assertEquals(0, Sprout.execute("train", "--out", resumed.toString(), "--resume", "--max-steps", "4"));
        assertTrue(TokenizerFiles.present(resumed));
        String resumedBefore = sample(resumed);

        // prepare will not replace the data folder unless asked to
        String meta = Files.readString(data.resolve("meta.json"));
        String other = text("ABCDEFGHIJ0123456789.,;:!?-", 40_000, 5);
        Path in = Files.writeString(tmp.resolve("other.txt"), other);
        assertUserError(run("prepare", "--input", in.toString(), "--tokenizer", "char", "--out", data.toString()),
                data.toAbsolutePath().normalize() + ": not empty (it holds prepared data); pass --force to replace it");
        assertEquals(meta, Files.readString(data.resolve("meta.json")));
        Path foreign = Files.createDirectories(tmp.resolve("thesis"));
        Files.writeString(foreign.resolve("chapter1.tex"), "precious");
        assertUserError(run("prepare", "--input", in.toString(), "--tokenizer", "char", "--out", foreign.toString(), "--force"), "not a Sprout data folder");
        assertTrue(Files.exists(foreign.resolve("chapter1.tex")), "--force replaces only data folders");

        // ... and with --force the folder holds another corpus, another vocabulary
        prepare(other, "char", data, "--force");
        assertNotEquals(meta, Files.readString(data.resolve("meta.json")));
        String after = sample(run);
        assertEquals(before, after, "the same seed and prompt give the same text: the run decodes with its own vocabulary");
        after.codePoints().forEach(cp -> assertTrue(letters.indexOf(cp) >= 0, "decoded '" + Character.toString(cp) + "' is in the run's vocabulary"));
        assertEquals(resumedBefore, sample(resumed));

        // an older run's vocabulary went with its data: one line, exit 2, for every command that needs it
        String lost = "was prepared again since the run started: the run's vocabulary is lost";
        assertUserError(run("sample", "--run", older.toString()), older + " keeps no tokenizer");
        assertUserError(run("sample", "--run", older.toString()), lost);
        assertUserError(run("export", "--run", older.toString(), "--out", tmp.resolve("older-export").toString()), lost);
        assertFalse(Files.exists(tmp.resolve("older-export")));
        assertUserError(run("eval", "--run", older.toString(), "--data", data.toString()), lost);

        // the run itself exports with its tokenizer; eval on its own data, now someone else's, is refused
        Path export = tmp.resolve("export");
        assertEquals(0, run("export", "--run", run.toString(), "--out", export.toString()).code());
        assertEquals(own.spec(), TokenizerFiles.read(export).spec());
        assertEquals(before, sample(export));
        JsonNode exported = Checkpoints.load(new Checkpoints(export.resolve("checkpoints"), 9).list().get(0)).state();
        assertEquals(state.get("tokenizer"), exported.get("tokenizer"));
        assertUserError(run("eval", "--run", run.toString()), "was prepared again since the run started; pass --data");
        assertUserError(run("eval", "--run", run.toString(), "--data", data.toString()), "prepared with another tokenizer than the run's (char vocabularies");
    }

    /** byte and gpt2 are the same everywhere: an older run of either needs nothing from its data folder. */
    @Test
    void anOlderByteRunNeedsNoDataFolder() throws Exception {
        Path data = prepare(text("abcdefgh \n", 30_000, 9), "byte", tmp.resolve("data"));
        Path run = tmp.resolve("run");
        assertEquals(0, Sprout.execute("train", "--config", TestRuns.tinyConfig(tmp, "gpt2").toString(), "--data", data.toString(), "--out", run.toString(),
                "--max-steps", "2"));
        Path older = olderCopy(run, "older");
        String before = sample(run);
        prepare(text("XYZ \n", 30_000, 1), "char", data, "--force");
        assertEquals(before, sample(older));
    }
}
