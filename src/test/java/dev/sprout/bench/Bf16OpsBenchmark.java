package dev.sprout.bench;

import dev.sprout.tensor.Autocast;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Times a bench.yaml block's pieces (B=8, T=256, C=384, F=1536, 6 heads; 2 threads) in fp32 and under bf16 autocast, best
 * of 4 after 2 warm-ups: why Sprout keeps attention in fp32 on the CPU (docs/PRECISION.md). A benchmark, not a test:
 * `mvn -B -o test -Dtest=Bf16OpsBenchmark -Dsprout.bench=true` (prints PROF lines), measured on a quiet machine.
 */
@EnabledIfSystemProperty(named = "sprout.bench", matches = "true")
class Bf16OpsBenchmark {
    interface Op {
        Tensor run();
    }

    static void time(String name, String precision, Op op, boolean backward) {
        double best = Double.MAX_VALUE;
        for (int i = 0; i < 6; i++) {
            try (PointerScope s = new PointerScope()) {
                long t0 = System.nanoTime();
                Tensor y;
                try (Autocast ac = Autocast.of(precision, new Device("cpu"))) {
                    y = op.run();
                }
                if (backward) y.to(torch.ScalarType.Float).sum().backward();
                else y.sum().item_double();
                if (i >= 2) best = Math.min(best, (System.nanoTime() - t0) / 1e6);
            }
        }
        System.out.printf(java.util.Locale.ROOT, "PROF %-26s %s %8.2f ms%n", name + (backward ? " fwd+bwd" : " fwd"), precision, best);
    }

    @Test
    void blockPieces() {
        torch.set_num_threads(2);
        long b = 8, t = 256, c = 384, f = 1536, h = 6;
        Tensor x = torch.randn(b, t, c).set_requires_grad(true);
        Tensor up = torch.randn(f, c).mul(new Scalar(0.02)).set_requires_grad(true);
        Tensor q = torch.randn(b, h, t, c / h).set_requires_grad(true);
        for (String p : new String[]{"fp32", "bf16"}) {
            for (boolean bw : new boolean[]{false, true}) {
                time("linear 384->1536", p, () -> torch.linear(x, up), bw);
                time("causal attention", p, () -> torch.scaled_dot_product_attention(q, q, q, new TensorOptional(), 0.0, true, new DoubleOptional(), false), bw);
            }
        }
    }
}
