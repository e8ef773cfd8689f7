package dev.sprout.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sprout.train.TestRuns;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run that fails before its first checkpoint leaves its folder as it was, so the corrected command just works. */
class NothingHalfWrittenTest {
    @TempDir
    Path tmp;

    private String[] train(Path out, String... sets) throws Exception {
        java.util.List<String> a = new java.util.ArrayList<>(java.util.List.of("train", "--config", TestRuns.tinyConfig(tmp, "gpt2").toString(),
                "--data", TestRuns.shakespeareChars().toString(), "--out", out.toString()));
        for (String s : sets) a.addAll(java.util.List.of("--set", s));
        return a.toArray(String[]::new);
    }

    @Test
    void errorsFoundAtStartWriteNothing() throws Exception {
        Path run = tmp.resolve("run");
        CliRun.assertUserError(CliRun.run(train(run, "device=cuda")), "device: 'cuda' asked for, but this libtorch build sees no CUDA device");
        assertFalse(Files.exists(run), "no folder for a run that never started");
        CliRun.assertUserError(CliRun.run(train(run, "model.context=200000", "model.max_positions=200000")), "fewer than context + 1");
        assertFalse(Files.exists(run));
        assertEquals(0, CliRun.run(train(run, "train.max_steps=5")).code(), "the corrected command starts");
    }

    @Test
    void aRunThatFailsBeforeItsFirstCheckpointLeavesTheFolderAsItWas() throws Exception {
        Path mine = tmp.resolve("mine");
        Files.createDirectories(mine);
        Files.writeString(mine.resolve("notes.txt"), "the user's own file");
        // a learning rate that makes the loss diverge within a few steps, long before the first checkpoint at step 10
        CliRun.Outcome diverged = CliRun.run(train(mine, "optim.lr=1e9", "optim.warmup_steps=0", "optim.grad_clip=0", "train.max_steps=40", "train.eval_every=0"));
        assertEquals(Sprout.USER_ERROR, diverged.code(), diverged.out() + diverged.err());
        assertTrue(diverged.err().contains("loss became"), diverged.err());
        try (Stream<Path> s = Files.list(mine)) {
            assertEquals(java.util.List.of("notes.txt"), s.map(p -> p.getFileName().toString()).toList(), "only what was there before");
        }
        assertEquals(0, CliRun.run(train(mine, "train.max_steps=5")).code(), "the corrected command starts in the same folder");
        assertTrue(Files.isRegularFile(mine.resolve("summary.json")));
    }
}
