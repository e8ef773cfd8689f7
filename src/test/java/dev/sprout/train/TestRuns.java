package dev.sprout.train;

import dev.sprout.data.Prepare;
import dev.sprout.data.PrepareOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/** Shared fixtures: a small prepared corpus and a tiny model config for end-to-end tests. */
public final class TestRuns {
    public static final Path SHAKESPEARE = Path.of("..", "shared", "data", "tinyshakespeare", "input.txt");
    private static Path prepared;

    private TestRuns() {}

    /** The first 300k characters of tinyshakespeare, char-tokenized once per JVM. */
    public static synchronized Path shakespeareChars() throws IOException {
        Assumptions.assumeTrue(Files.isRegularFile(SHAKESPEARE), "../shared/data/tinyshakespeare is not present");
        if (prepared == null) {
            Path dir = Files.createTempDirectory("sprout-test-data");
            prepared = dir.resolve("shakespeare-char");
            Prepare.run(PrepareOptions.of(List.of(SHAKESPEARE), "char", prepared).withMaxChars(300_000));
        }
        return prepared;
    }

    /** A 2-layer GPT-2 small enough that a step takes a few milliseconds. */
    public static Path tinyConfig(Path dir, String family) throws IOException {
        Path cfg = dir.resolve(family + "-tiny.yaml");
        Files.writeString(cfg, """
                model:
                  family: %s
                  n_layer: 2
                  n_head: 2
                  d_model: 32
                  context: 32
                train:
                  batch_size: 8
                  max_steps: 40
                  eval_every: 10
                  eval_tokens: 2048
                  log_every: 10
                optim:
                  lr: 3.0e-3
                  warmup_steps: 5
                checkpoint:
                  every: 10
                  keep: 2
                """.formatted(family));
        return cfg;
    }
}
