package dev.sprout.method;

import dev.sprout.config.ConfigException;
import dev.sprout.model.Transformer;
import java.util.SplittableRandom;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** Shared pieces of the LoRA-family methods: which linears get adapters, and LoRA's own initialisation. */
final class LowRank {
    private LowRank() {}

    /** Checks that rank r fits every block linear (r <= min(out, in)), naming the first that it does not. */
    static void checkRank(Transformer model, int rank) {
        checkRank(model, rank, "method.lora.rank");
    }

    /** The same check for the config key {@code key} that set the rank. */
    static void checkRank(Transformer model, int rank, String key) {
        for (String linear : model.blockLinears()) {
            Tensor w = model.param(linear + ".weight");
            long min = Math.min(w.size(0), w.size(1));
            if (rank > min) throw new ConfigException(key + ": " + rank + " exceeds min(out, in) = " + min + " of " + linear);
        }
    }

    /**
     * LoRA's initialisation on every block linear: A uniform in +-1/sqrt(in) (PyTorch's kaiming_uniform_ with a = sqrt(5),
     * as nn.Linear and peft use), B zero, so the adapted model starts as the dense one.
     */
    static void addKaimingZero(Transformer model, int rank, double alpha, SplittableRandom rng) {
        checkRank(model, rank);
        for (String linear : model.blockLinears()) {
            Tensor w = model.param(linear + ".weight");
            model.addAdapter(linear, kaimingA(rank, w.size(1), rng), torch.zeros(w.size(0), rank), alpha / rank);
        }
    }

    /** A fresh A [r, in] for LoRA: uniform in +-1/sqrt(in). */
    static Tensor kaimingA(long rank, long in, SplittableRandom rng) {
        return uniform(rank, in, 1 / Math.sqrt(in), rng);
    }

    /**
     * A [rows, cols] tensor uniform in +-bound from a Java generator: adapters and candidate pools are drawn from streams
     * of their own (seeded from the run's seed), so they do not depend on, or disturb, libtorch's global generator.
     */
    static Tensor uniform(long rows, long cols, double bound, SplittableRandom rng) {
        float[] v = new float[Math.toIntExact(rows * cols)];
        for (int i = 0; i < v.length; i++) v[i] = (float) ((2 * rng.nextDouble() - 1) * bound);
        return torch.tensor(v).view(rows, cols);
    }
}
