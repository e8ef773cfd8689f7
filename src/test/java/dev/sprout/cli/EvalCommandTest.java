package dev.sprout.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sprout.data.Prepare;
import dev.sprout.data.PrepareOptions;
import dev.sprout.train.TestRuns;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `sprout eval`: a run's loss on its own validation windows and on other text, and the refusal of another tokenizer. */
class EvalCommandTest {
    @TempDir
    Path tmp;

    @Test
    void evalReproducesTheRunsValLossAndReadsOtherText() throws Exception {
        Path sotu = Path.of("..", "shared", "data", "sotu");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(sotu), "../shared/data/sotu is not present");
        Path shakespeare = tmp.resolve("shakespeare-byte"), speeches = tmp.resolve("sotu-byte");
        Prepare.run(PrepareOptions.of(List.of(TestRuns.SHAKESPEARE), "byte", shakespeare).withMaxChars(300_000));
        Prepare.run(PrepareOptions.of(List.of(sotu), "byte", speeches).withMaxChars(200_000));
        Path run = tmp.resolve("run");
        assertEquals(0, Sprout.execute("train", "--config", TestRuns.tinyConfig(tmp, "gpt2").toString(), "--data", shakespeare.toString(), "--out", run.toString(),
                "--set", "train.max_steps=30"));
        double logged = new ObjectMapper().readTree(run.resolve("summary.json").toFile()).get("final_val_loss").asDouble();

        CliRun.Outcome own = CliRun.run("eval", "--run", run.toString());
        assertEquals(0, own.code(), own.err());
        JsonNode o = new ObjectMapper().readTree(own.out().lines().findFirst().orElseThrow());
        assertEquals(logged, o.get("loss").asDouble(), 1e-9, "the run's own validation windows give its last logged val loss");
        assertEquals(o.get("tokens").asLong(), o.get("bytes").asLong(), "bytes: one per token of the byte tokenizer");
        assertEquals(o.get("loss").asDouble() / Math.log(2), o.get("bits_per_byte").asDouble(), 1e-12);
        assertTrue(own.out().contains("eval: ") && own.out().contains("bits per byte"), own.out());

        CliRun.Outcome other = CliRun.run("eval", "--run", run.toString(), "--data", speeches.toString(), "--tokens", "4096");
        assertEquals(0, other.code(), other.err());
        JsonNode p = new ObjectMapper().readTree(other.out().lines().findFirst().orElseThrow());
        assertTrue(Double.isFinite(p.get("loss").asDouble()) && p.get("loss").asDouble() > 0, other.out());
        assertEquals(4096 / 32 * 32, p.get("tokens").asLong());
        assertTrue(Math.abs(p.get("loss").asDouble() - o.get("loss").asDouble()) > 1e-3, "other text, another loss");

        CliRun.Outcome train = CliRun.run("eval", "--run", run.toString(), "--split", "train", "--tokens", "2048");
        assertEquals(0, train.code(), train.err());

        CliRun.assertUserError(CliRun.run("eval", "--run", run.toString(), "--data", TestRuns.shakespeareChars().toString()),
                "was prepared with another tokenizer than the run's (tokenizer byte against char); prepare the text with --tokenizer byte");
        CliRun.assertUserError(CliRun.run("eval", "--run", run.toString(), "--split", "test"), "--split: expected val or train");
    }
}
