package dev.sprout.train;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sprout.config.ConfigLoader;
import dev.sprout.config.SproutConfig;
import java.util.List;
import org.bytedeco.pytorch.Device;
import org.junit.jupiter.api.Test;

/** A finished run gives its native memory back: compare trains runs one after another in one process. */
class ReleaseTest {
    @Test
    void releasingAMethodTrainingReturnsItsMemory() {
        assumeTrue(MemoryUse.currentRss() > 0, "needs /proc/self/status");
        // 8 blocks of d = 512: 25M parameters, 100 MB of weights and 200 MB of AdamW moments
        SproutConfig cfg = ConfigLoader.load(null, List.of("model.n_layer=8", "model.d_model=512", "model.n_head=8", "model.context=32"));
        cfg = cfg.withModel(cfg.model().resolve(64));
        org.bytedeco.pytorch.global.torch.zeros(1); // libtorch's own code and pools are loaded before the baseline
        System.gc();
        long before = MemoryUse.currentRss();
        MethodTraining training = new MethodTraining(cfg, new Device("cpu"), null);
        long built = MemoryUse.currentRss();
        assertTrue(built - before > 250_000_000L, "the model and its optimizer take about 300 MB: " + (built - before));
        training.release();
        long after = MemoryUse.currentRss();
        assertTrue(after - before < 0.15 * (built - before), "resident " + before + " before, " + built + " built, " + after + " released");
    }
}
