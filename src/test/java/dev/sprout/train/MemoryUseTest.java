package dev.sprout.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class MemoryUseTest {
    /** compare trains runs one after another in one process: each run's peak must be its own. */
    @Test
    void resetPeakForgetsAnEarlierPeakInTheSameProcess() {
        Assumptions.assumeTrue(Files.isRegularFile(Path.of("/proc/self/clear_refs")), "Linux only");
        MemoryUse.resetPeak();
        long before = MemoryUse.peakRss();
        Tensor big = torch.ones(75_000_000L); // 300 MB, touched
        long withBig = MemoryUse.peakRss();
        assertTrue(withBig > before + 250_000_000L, "peak grows with a 300 MB tensor: " + before + " -> " + withBig);
        big.close();
        MemoryUse.resetPeak();
        long after = MemoryUse.peakRss();
        assertTrue(after < withBig - 250_000_000L, "after the reset the freed tensor no longer counts: " + withBig + " -> " + after);
    }
}
