package dev.sprout.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sprout.train.TestRuns;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A finished run extended with --resume --set train.max_steps=N continues from its final state. */
class ExtendRunTest {
    @TempDir
    Path tmp;

    /**
     * With a constant learning rate (its schedule does not depend on the run's length), 20 steps extended to 35 are
     * bit for bit the 35 steps of one run.
     */
    @Test
    void anExtendedRunContinuesExactlyFromTheFinishedRunsState() throws Exception {
        Path cfg = TestRuns.tinyConfig(tmp, "gpt2"), data = TestRuns.shakespeareChars();
        Path whole = tmp.resolve("whole"), extended = tmp.resolve("extended");
        String[] common = {"--config", cfg.toString(), "--data", data.toString(), "--set", "optim.schedule=constant", "--set", "train.eval_every=5"};
        assertEquals(0, Sprout.execute(concat(new String[]{"train", "--out", whole.toString(), "--set", "train.max_steps=35"}, common)));
        assertEquals(0, Sprout.execute(concat(new String[]{"train", "--out", extended.toString(), "--set", "train.max_steps=20"}, common)));
        CliRun.Outcome beyond = CliRun.run("train", "--out", extended.toString(), "--resume", "--max-steps", "35");
        assertEquals(0, beyond.code(), beyond.err());
        assertTrue(beyond.out().contains("--max-steps 35 is beyond train.max_steps 20: the run ends at 20 (to go on, resume with --set train.max_steps=35)"), beyond.out());

        CliRun.Outcome more = CliRun.run("train", "--out", extended.toString(), "--resume", "--set", "train.max_steps=35");
        assertEquals(0, more.code(), more.err());
        assertTrue(more.out().contains("train.max_steps 20 -> 35"), more.out());
        List<String> a = Files.readAllLines(whole.resolve("metrics.jsonl")), b = Files.readAllLines(extended.resolve("metrics.jsonl"));
        assertEquals(35, b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(new com.fasterxml.jackson.databind.ObjectMapper().readTree(a.get(i)).get("loss").asDouble(), new com.fasterxml.jackson.databind.ObjectMapper().readTree(b.get(i)).get("loss").asDouble(), 0.0, "loss at step " + (i + 1));
        }
        assertTrue(new com.fasterxml.jackson.databind.ObjectMapper().readTree(extended.resolve("summary.json").toFile()).get("complete").asBoolean());
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
