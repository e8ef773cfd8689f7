package dev.sprout.tensor;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/** Small conveniences over the JavaCPP libtorch API, so model code reads like the math. */
public final class Tensors {
    private Tensors() {}

    public static Scalar s(double v) {
        return new Scalar(v);
    }

    public static TensorOptions floats(Device device) {
        return new TensorOptions().dtype(new ScalarTypeOptional(torch.ScalarType.Float)).device(new DeviceOptional(device));
    }

    public static TensorOptions longs(Device device) {
        return new TensorOptions().dtype(new ScalarTypeOptional(torch.ScalarType.Long)).device(new DeviceOptional(device));
    }

    /**
     * A long tensor of the given shape filled from a Java array (copied), on the device. For a GPU the host copy is pinned
     * and the transfer asynchronous, so building the next batch does not wait for the device.
     */
    public static Tensor longTensor(long[] data, Device device, long... shape) {
        Tensor t = torch.tensor(data).view(shape);
        if (device.is_cpu()) return t;
        return t.pin_memory().to(device, torch.ScalarType.Long, true, false, new org.bytedeco.pytorch.MemoryFormatOptional());
    }

    public static Tensor intIndex(int[] idx, Device device) {
        long[] l = new long[idx.length];
        for (int i = 0; i < idx.length; i++) l[i] = idx[i];
        return longTensor(l, device, l.length);
    }

    /** Copies a float tensor to a Java array (through the CPU). */
    public static float[] toFloats(Tensor t) {
        Tensor c = t.detach().cpu().contiguous().to(torch.ScalarType.Float);
        float[] out = new float[(int) c.numel()];
        c.data_ptr_float().get(out);
        return out;
    }

    public static long[] shape(Tensor t) {
        return t.sizes().vec().get();
    }
}
