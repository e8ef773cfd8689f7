package dev.sprout.train;

import dev.sprout.data.EvalWindows;
import dev.sprout.dist.Collectives;
import dev.sprout.model.Transformer;
import dev.sprout.subnet.SubnetPlan;
import dev.sprout.tensor.Autocast;
import dev.sprout.tensor.Tensors;
import java.util.Arrays;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;

/**
 * The full model's mean next-token loss over a fixed set of windows, without scaling or gradients: what training logs as
 * val_loss and what `sprout eval` reports. In a data-parallel job each rank takes every world-th batch and the sums are
 * added up, so every rank gets the mean over all windows.
 */
public final class Evaluation {
    private Evaluation() {}

    /** Mean loss per token over the windows, in batches of {@code batch} windows, in {@code precision}. */
    public static double meanLoss(Transformer model, EvalWindows windows, int batch, String precision, Collectives dist) {
        int t = windows.context(), rank = dist.env().rank(), world = dist.env().worldSize();
        SubnetPlan full = SubnetPlan.full(model.config().nLayer());
        double sum = 0;
        long count = 0;
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard(); Autocast ac = Autocast.of(precision, model.device())) {
            long[] x = new long[batch * t], y = new long[batch * t];
            for (int k = rank; k < windows.batches(batch); k += world) {
                try (PointerScope batchScope = new PointerScope()) { // one batch's activations at a time, not the whole eval set's
                    int rows = windows.batch(k, batch, x, y);
                    long[] xs = rows == batch ? x : Arrays.copyOf(x, rows * t), ys = rows == batch ? y : Arrays.copyOf(y, rows * t);
                    sum += model.meanLoss(Tensors.longTensor(xs, model.device(), rows, t), Tensors.longTensor(ys, model.device(), rows, t), full) * rows;
                    count += rows;
                }
            }
        }
        double[] all = dist.sum(sum, count);
        return all[0] / all[1];
    }
}
