package dev.sprout.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sprout.train.TestRuns;
import java.nio.file.Path;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SampleCommandTest {
    @TempDir
    Path tmp;

    /** Which of probabilities (0.5, 0.05, 0.3, 0.15) survive top-p, by hand: sorted 0.5, 0.3, 0.15, 0.05 with mass before 0, 0.5, 0.8, 0.95. */
    @Test
    void nucleusKeepsTheMostLikelyTokensUpToP() {
        assertArrayEquals(new boolean[]{true, false, true, false}, kept(0.7));
        assertArrayEquals(new boolean[]{true, false, true, true}, kept(0.81));
        assertArrayEquals(new boolean[]{true, false, false, false}, kept(1e-9), "the most likely token always stays");
        assertArrayEquals(new boolean[]{true, true, true, true}, kept(0.999));
    }

    private static boolean[] kept(double p) {
        Tensor logits = torch.tensor(new float[]{(float) Math.log(0.5), (float) Math.log(0.05), (float) Math.log(0.3), (float) Math.log(0.15)});
        Tensor out = SampleCommand.nucleus(logits, p);
        boolean[] k = new boolean[4];
        for (int i = 0; i < 4; i++) k[i] = out.select(0, i).item_double() > Double.NEGATIVE_INFINITY;
        return k;
    }

    @Test
    void sampleNamesItsCheckpointEndsWithANewlineAndATinyTopPIsGreedy() throws Exception {
        Path run = tmp.resolve("run");
        assertEquals(0, Sprout.execute("train", "--config", TestRuns.tinyConfig(tmp, "gpt2").toString(), "--data", TestRuns.shakespeareChars().toString(),
                "--out", run.toString(), "--max-steps", "3"));
        CliRun.Outcome greedy = CliRun.run("sample", "--run", run.toString(), "--prompt", "ROMEO:", "--tokens", "30", "--temperature", "0");
        CliRun.Outcome nucleus = CliRun.run("sample", "--run", run.toString(), "--prompt", "ROMEO:", "--tokens", "30", "--temperature", "1", "--top-p", "1e-6");
        CliRun.Outcome all = CliRun.run("sample", "--run", run.toString(), "--prompt", "ROMEO:", "--tokens", "30", "--temperature", "1", "--top-k", "0");
        assertEquals(0, greedy.code(), greedy.err());
        assertEquals(greedy.out(), nucleus.out(), "top-p near 0 keeps only the most likely token");
        assertTrue(!greedy.out().equals(all.out()), "sampling from every token differs from greedy: " + all.out());
        assertTrue(greedy.out().endsWith(System.lineSeparator()), greedy.out());
        assertTrue(greedy.err().contains("ckpt-00000003") && greedy.err().contains("(step 3)"), greedy.err());
        CliRun.assertUserError(CliRun.run("sample", "--run", run.toString(), "--top-p", "0"), "--top-p: must be in (0, 1], got 0.0");
    }
}
