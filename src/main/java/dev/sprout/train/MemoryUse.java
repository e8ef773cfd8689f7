package dev.sprout.train;

import dev.sprout.model.Transformer;
import dev.sprout.optim.AdamW;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Predicate;
import org.bytedeco.pytorch.Tensor;

/**
 * What a run's training state costs in memory, for the whole model and for the block matrices alone (at small scale the
 * full-rank embeddings dominate the whole model, hiding what a low-rank method saves in the blocks). Gradient bytes are
 * those of the trainable parameters (every trainable element gets one per step); optimizer bytes are AdamW's moments and
 * GaLore's bases. Peak resident memory is the process's high-water mark (VmHWM) since the run's training session
 * began ({@link #resetPeak}: `compare` trains many runs in one process), so after a resume it covers the resumed part only.
 */
public record MemoryUse(long trainableParams, long trainableParamsBlocks, long optimizerStateBytes, long optimizerStateBytesBlocks,
                        long gradientBytes, long gradientBytesBlocks, long peakRssBytes) {
    private static final Predicate<String> BLOCKS = n -> n.startsWith("blocks.");

    public static MemoryUse of(Transformer model, AdamW optimizer) {
        long all = 0, blocks = 0, gradAll = 0, gradBlocks = 0;
        for (var e : model.trainableParameters().entrySet()) {
            Tensor p = e.getValue();
            all += p.numel();
            gradAll += p.nbytes();
            if (BLOCKS.test(e.getKey())) {
                blocks += p.numel();
                gradBlocks += p.nbytes();
            }
        }
        return new MemoryUse(all, blocks, optimizer.stateBytes(), optimizer.stateBytes(BLOCKS), gradAll, gradBlocks, peakRss());
    }

    /**
     * Restarts the high-water mark at the current resident size (Linux: writing 5 to /proc/self/clear_refs), so the peak
     * a run reports is its own and not an earlier run's in the same process. Best effort: elsewhere it does nothing.
     */
    public static void resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            // no such interface here: the peak then covers the whole process
        }
    }

    /** VmHWM from /proc/self/status in bytes, or -1 where there is no such file (not Linux). */
    static long peakRss() {
        return status("VmHWM:");
    }

    /** VmRSS, the resident size now, in bytes, or -1 where there is no /proc/self/status. */
    static long currentRss() {
        return status("VmRSS:");
    }

    private static long status(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key)) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
