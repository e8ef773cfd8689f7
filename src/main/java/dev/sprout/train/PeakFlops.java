package dev.sprout.train;

import dev.sprout.config.ConfigException;
import dev.sprout.config.SproutConfig;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The peak MFU is measured against (flops.peak_gflops): a number from the config, or with {@code auto} what this machine's
 * matmuls reach in the run's precision with the threads in use, measured once per process (the best of a few
 * 2048 x 1024 by 1024 x 1024 products). A nominal peak (AVX-512 cores, a GPU's datasheet) is rarely reached by a real
 * matmul; the measured one says how close a training step gets to what the hardware actually does.
 */
public final class PeakFlops {
    private static final Map<String, Double> MEASURED = new ConcurrentHashMap<>();

    private PeakFlops() {}

    /** The peak in GFLOP/s for this run's setting, precision and device, and how it was obtained. */
    public record Peak(double gflops, String source) {}

    public static Peak of(SproutConfig cfg, Device device) {
        String setting = cfg.flops().peakGflops();
        if (!setting.equals("auto")) return new Peak(Double.parseDouble(setting), "flops.peak_gflops");
        int threads = torch.get_num_threads();
        String precision = cfg.train().precision();
        String key = device + "/" + precision + "/" + threads;
        double g = MEASURED.computeIfAbsent(key, k -> measure(device, precision));
        return new Peak(g, "measured " + precision + " matmul peak, " + (device.is_cpu() ? threads + " thread" + (threads == 1 ? "" : "s") : device.toString()));
    }

    private static double measure(Device device, String precision) {
        torch.ScalarType type = precision.equals("bf16") ? torch.ScalarType.BFloat16 : torch.ScalarType.Float;
        long m = 2048, k = 1024, n = 1024;
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor a = torch.randn(m, k).to(device, type), b = torch.randn(k, n).to(device, type);
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 8; i++) {
                long t0 = System.nanoTime();
                Tensor c = a.mm(b);
                c.sum().item_double(); // waits for the device
                if (i >= 2) best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            }
            return 2.0 * m * k * n / best / 1e9;
        } catch (RuntimeException e) {
            throw new ConfigException("flops.peak_gflops: auto could not measure a " + precision + " matmul on " + device + " (" + e.getMessage() + "); set a number");
        }
    }
}
