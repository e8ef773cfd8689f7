package dev.sprout.cli;

import static dev.sprout.cli.CliRun.assertUserError;
import static dev.sprout.cli.CliRun.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sprout.train.TestRuns;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** User errors: one line naming the problem, exit code 2, no stack trace, nothing in a run folder damaged. */
class BadInputTest {
    @TempDir
    Path tmp;


    private Path config(String yaml) throws IOException {
        Path p = Files.createTempFile(tmp, "cfg", ".yaml");
        Files.writeString(p, yaml);
        return p;
    }

    private static Map<String, Long> snapshot(Path dir) throws IOException {
        Map<String, Long> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) m.put(dir.relativize(p) + ":" + Files.size(p), Files.getLastModifiedTime(p).toMillis());
        }
        return m;
    }

    @Test
    void aMistypedChoiceIsAnsweredWithTheLikelyOne() throws IOException {
        Path data = TestRuns.shakespeareChars(), out = tmp.resolve("typo");
        CliRun.Outcome method = run("train", "--config", config("").toString(), "--data", data.toString(), "--out", out.toString(), "--set", "method.name=raptor");
        assertUserError(method, "got 'raptor' (did you mean 'raptr'?)");
        assertTrue(method.err().contains("method.name: must be one of"), method.err());
        assertUserError(run("train", "--config", config("").toString(), "--data", data.toString(), "--out", out.toString(), "--set", "train.precision=bf61"),
                "(did you mean 'bf16'?)");
        CliRun.Outcome far = run("train", "--config", config("").toString(), "--data", data.toString(), "--out", out.toString(), "--set", "optim.schedule=zigzag");
        assertUserError(far, "optim.schedule: must be one of");
        assertFalse(far.err().contains("did you mean"), "no guess when nothing is near: " + far.err());
    }

    @Test
    void aMistypedOptionIsAnErrorLineInTheSameStyle() {
        CliRun.Outcome o = run("train", "--out", tmp.resolve("r").toString(), "--froce");
        assertUserError(o, "error: Unknown option: '--froce'");
        assertTrue(o.err().contains("'--force'") && o.err().contains("sprout train --help"), o.err());
        CliRun.Outcome command = run("trian");
        assertUserError(command, "(did you mean 'train'?)");
    }

    @Test
    void aWarmupLongerThanTheRunIsWarnedAbout() throws IOException {
        Path out = tmp.resolve("warm");
        CliRun.Outcome o = run("train", "--config", TestRuns.tinyConfig(tmp, "gpt2").toString(), "--data", TestRuns.shakespeareChars().toString(),
                "--out", out.toString(), "--set", "train.max_steps=3", "--set", "optim.warmup_steps=10");
        assertEquals(0, o.code(), o.err());
        assertTrue((o.out() + o.err()).contains("warning: optim.warmup_steps (10) >= train.max_steps (3)"), o.out() + o.err());
    }

    @Test
    void badConfigsAndDataAreOneLineErrors() throws IOException {
        Path data = TestRuns.shakespeareChars();
        Path out = tmp.resolve("run");
        assertUserError(run("train", "--config", config("model:\n  n_layers: 2\n").toString(), "--data", data.toString(), "--out", out.toString()), "model.n_layers");
        assertUserError(run("train", "--config", config("model:\n  n_head: 3\n").toString(), "--data", data.toString(), "--out", out.toString()), "model.n_head");
        assertUserError(run("train", "--config", config("model:\n  context: 128\n  max_positions: 64\n").toString(), "--data", data.toString(), "--out", out.toString()), "position table");
        assertUserError(run("train", "--config", config("model:\n  vocab_size: 20\n").toString(), "--data", data.toString(), "--out", out.toString()), "model.vocab_size");
        assertUserError(run("train", "--config", config("data:\n  tokenizer: gpt2\n").toString(), "--data", data.toString(), "--out", out.toString()),
                "was prepared with 'char'; prepare the text with --tokenizer gpt2, or --set data.tokenizer=char (or auto) to train on this folder");
        assertUserError(run("train", "--config", tmp.resolve("missing.yaml").toString(), "--data", data.toString(), "--out", out.toString()), "missing.yaml");
        assertUserError(run("train", "--config", config("").toString(), "--data", tmp.resolve("nodata").toString(), "--out", out.toString()), "nodata");
        assertUserError(run("train", "--config", config("").toString(), "--data", data.toString(), "--out", out.toString(), "--set", "optim.lr=fast"), "optim.lr");
        assertFalse(Files.exists(out.resolve("config.yaml")), "a rejected run writes nothing");

        Path corrupt = tmp.resolve("corrupt");
        Files.createDirectories(corrupt);
        Files.writeString(corrupt.resolve("meta.json"), "{ not json");
        assertUserError(run("train", "--config", config("").toString(), "--data", corrupt.toString(), "--out", out.toString()), "meta.json");
    }

    @Test
    void anExistingRunIsNeverOverwrittenOrDamaged() throws IOException {
        Path data = TestRuns.shakespeareChars();
        Path cfg = TestRuns.tinyConfig(tmp, "gpt2");
        Path out = tmp.resolve("run");
        assertEquals(0, Sprout.execute("train", "--config", cfg.toString(), "--data", data.toString(), "--out", out.toString(), "--max-steps", "10"));
        Map<String, Long> before = snapshot(out);
        assertUserError(run("train", "--config", cfg.toString(), "--data", data.toString(), "--out", out.toString()), "already holds a run");
        assertUserError(run("train", "--config", cfg.toString(), "--out", out.toString(), "--resume", "--set", "optim.lr=0.1"), "optim.lr");
        assertUserError(run("train", "--config", config("model:\n  n_layer: 3\n").toString(), "--out", out.toString(), "--resume"), "model.n_layer");
        assertUserError(run("train", "--out", tmp.resolve("nothing").toString(), "--resume"), "no run");
        assertEquals(before, snapshot(out), "the run folder is untouched");
    }

    @Test
    void prepareRejectsBadInput() throws IOException {
        assertUserError(run("prepare", "--input", tmp.resolve("absent.txt").toString(), "--tokenizer", "char", "--out", tmp.resolve("d").toString()), "absent.txt");
        Path txt = Files.writeString(tmp.resolve("a.txt"), "hello");
        assertUserError(run("prepare", "--input", txt.toString(), "--tokenizer", "words", "--out", tmp.resolve("d").toString()), "words");
    }

    @Test
    void sampleRejectsAFolderThatIsNotARun() {
        assertUserError(run("sample", "--run", tmp.toString()), "not a run folder");
    }
}
