package dev.sprout.train;

import dev.sprout.config.ConfigException;
import dev.sprout.config.ModelConfig;
import dev.sprout.config.SproutConfig;
import dev.sprout.subnet.SubnetPlan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.bytedeco.pytorch.Device;

/**
 * What a run will cost, worked out from its configuration before anything is built: parameters, FLOPs per step, a step
 * time from the measured matmul peak, and peak memory (weights, gradients, AdamW state, and the activations a micro-batch
 * keeps for its backward pass). Rough, and on the high side where it is unsure; a run whose estimate exceeds the memory
 * the machine has free is refused before it starts, since such a run would only swap or be killed.
 *
 * @param params     parameters of the model
 * @param stepFlops  training FLOPs of one full optimizer step (the whole job's)
 * @param stepSeconds a step's time at half the measured matmul peak (what training steps reach here)
 * @param memoryBytes peak resident memory of one process
 * @param availableBytes memory the machine has free now (MemAvailable), or -1 where unknown
 */
public record RunEstimate(long params, double stepFlops, double stepSeconds, long weightBytes, long optimizerBytes, long activationBytes,
                          long memoryBytes, long availableBytes, int steps) {
    /** The JVM, libtorch and MKL themselves, measured at about 0.5 GB for a tiny model here. */
    static final long RUNTIME_BYTES = 500L << 20;

    public static RunEstimate of(SproutConfig cfg, int world, Device device) {
        ModelConfig m = cfg.model();
        long p = m.paramCount();
        long seqs = (long) world * cfg.train().gradAccum() * cfg.train().batchSize();
        double flops = new FlopsAccountant(m, cfg.flops().bwdOverFwd()).train(SubnetPlan.full(m.nLayer()), seqs, m.context()).total();
        double peak = PeakFlops.of(cfg, device).gflops() * 1e9 * world;
        long weights = 4L * p, optimizer = 8L * p + 4L * p; // AdamW's two moments and the gradients, all fp32
        // per token and block, the tensors kept for backward: about 10 of width C (norms, q/k/v, attention out, projections,
        // residuals) and 2 of width F (GELU: up, activation; SwiGLU keeps 4); bf16 halves the matmul outputs, most of them
        long perTokenBlock = 10L * m.dModel() + (m.isLlama() ? 4L : 2L) * m.ffDim();
        double bytesPerValue = cfg.train().precision().equals("bf16") ? 2.5 : 4.0;
        long tokens = (long) cfg.train().batchSize() * m.context();
        long activations = (long) (tokens * (double) perTokenBlock * m.nLayer() * bytesPerValue) + (64L << 20); // + the head's logit chunks
        long memory = RUNTIME_BYTES + weights + optimizer + activations;
        return new RunEstimate(p, flops, flops / (0.5 * peak), weights, optimizer, activations, memory, availableMemory(), cfg.train().maxSteps());
    }

    /** Whether the run fits the memory the machine has free (true where that is unknown). */
    public boolean fits() {
        return availableBytes < 0 || memoryBytes <= availableBytes;
    }

    /** Stops, in one line, a run that does not fit (unless forced). */
    public void check(boolean force) {
        if (force || fits()) return;
        throw new ConfigException(String.format(Locale.ROOT, "the run needs about %s of memory (%s weights, %s gradients and AdamW state, %s activations per micro-batch) "
                + "but %s are free; lower train.batch_size or model.context (or model size), or pass --force to try anyway",
                gb(memoryBytes), gb(weightBytes), gb(optimizerBytes), gb(activationBytes), gb(availableBytes)));
    }

    /** One line for the console. */
    public String describe() {
        return String.format(Locale.ROOT, "estimate: %,d parameters, %.3g FLOPs per step, about %s per step (%s for %,d steps), peak memory about %s%s",
                params, stepFlops, duration(stepSeconds), duration(stepSeconds * steps), steps, gb(memoryBytes),
                availableBytes < 0 ? "" : " of " + gb(availableBytes) + " free");
    }

    static String gb(long bytes) {
        return bytes >= (1L << 30) ? String.format(Locale.ROOT, "%.1f GB", bytes / (double) (1L << 30)) : String.format(Locale.ROOT, "%.0f MB", bytes / (double) (1L << 20));
    }

    static String duration(double s) {
        if (s < 1) return String.format(Locale.ROOT, "%.0f ms", s * 1e3);
        if (s < 120) return String.format(Locale.ROOT, "%.1f s", s);
        if (s < 7200) return String.format(Locale.ROOT, "%.0f min", s / 60);
        return String.format(Locale.ROOT, "%.1f h", s / 3600);
    }

    /** MemAvailable from /proc/meminfo, or -1 where there is none. */
    static long availableMemory() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
