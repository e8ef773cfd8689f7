package dev.sprout.tensor;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;

/**
 * A region in which libtorch's autocast runs the ops it lists in lower precision (matmuls, linear layers, attention in
 * bfloat16) while the tensors outside stay as they are: fp32 parameters (the master weights; the casts are part of the
 * graph, so their gradients come back in fp32), fp32 losses and log-softmax (autocast's fp32 list), and a residual stream
 * that stays fp32 because adding a bf16 branch to an fp32 tensor promotes to fp32 (so the norms read fp32). Thread-local,
 * like autocast itself; the cast-weight cache is cleared when the outermost region closes.
 */
public final class Autocast implements AutoCloseable {
    private final torch.DeviceType type;
    private final boolean wasEnabled;
    private final torch.ScalarType wasType;
    private final boolean active;

    private final boolean suspending;

    private Autocast(Device device, torch.ScalarType dtype, boolean active) {
        this.type = device.is_cuda() ? torch.DeviceType.CUDA : torch.DeviceType.CPU;
        this.active = active;
        this.suspending = false;
        if (active) {
            this.wasEnabled = torch.is_autocast_enabled(type);
            this.wasType = torch.get_autocast_dtype(type);
            torch.set_autocast_dtype(type, dtype);
            torch.set_autocast_enabled(type, true);
            torch.increment_nesting();
        } else {
            this.wasEnabled = false;
            this.wasType = null;
        }
    }

    private Autocast(Device device) {
        this.type = device.is_cuda() ? torch.DeviceType.CUDA : torch.DeviceType.CPU;
        this.wasEnabled = torch.is_autocast_enabled(type);
        this.wasType = torch.get_autocast_dtype(type);
        this.active = wasEnabled;
        this.suspending = true;
        if (wasEnabled) torch.set_autocast_enabled(type, false);
    }

    /** Whether autocast is on for {@code device} in this thread. */
    public static boolean enabled(Device device) {
        return torch.is_autocast_enabled(device.is_cuda() ? torch.DeviceType.CUDA : torch.DeviceType.CPU);
    }

    /** A region inside an autocast region where ops run in their inputs' precision again (nothing to do outside one). */
    public static Autocast suspended(Device device) {
        return new Autocast(device);
    }

    /** Autocast to bfloat16 on {@code device} when {@code precision} is "bf16"; a region that does nothing for "fp32". */
    public static Autocast of(String precision, Device device) {
        return switch (precision) {
            case "bf16" -> new Autocast(device, torch.ScalarType.BFloat16, true);
            case "fp32" -> new Autocast(device, null, false);
            default -> throw new IllegalArgumentException("precision must be fp32 or bf16, got " + precision);
        };
    }

    @Override
    public void close() {
        if (!active) return;
        if (suspending) {
            torch.set_autocast_enabled(type, true);
            return;
        }
        if (torch.decrement_nesting() == 0) torch.clear_cache();
        torch.set_autocast_enabled(type, wasEnabled);
        torch.set_autocast_dtype(type, wasType);
    }
}
