package dev.sprout.dist;

import java.time.Duration;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** A rank of the collectives test: sums tensors and numbers, exchanges text, prints what it got. */
public final class CollectivesProbe {
    public static void main(String[] args) {
        DistEnv env = DistEnv.fromEnvironment();
        try (Collectives c = Collectives.open(env, Duration.ofSeconds(Long.parseLong(args[0])), 64)) {
            int r = env.rank();
            // three tensors of 40, 4 and 24 bytes with a bucket cap of 64: two buckets, one of them packed from two tensors
            Tensor a = torch.ones(10).mul(new org.bytedeco.pytorch.Scalar(r + 1)), b = torch.ones(1), d = torch.arange(new org.bytedeco.pytorch.Scalar(6)).to(torch.ScalarType.Float).mul(new org.bytedeco.pytorch.Scalar(r));
            c.sum(List.of(a, b, d));
            System.out.println("sums " + a.sum().item_double() + " " + b.item_double() + " " + d.sum().item_double());
            System.out.println("numbers " + c.sum(r + 0.5, 1.0)[0]);
            System.out.println("texts " + c.exchange("probe", "rank" + r));
            Tensor x = torch.full(new long[]{3}, new org.bytedeco.pytorch.Scalar(r + 7.0));
            c.broadcast(x, 1);
            System.out.println("broadcast " + x.sum().item_double());
            System.out.println("bytes " + c.bytesReduced());
            if (args.length > 1 && args[1].equals("die") && r == 1) Runtime.getRuntime().halt(9);
            if (args.length > 1 && args[1].equals("die")) c.sum(List.of(torch.ones(4))); // rank 1 is gone: this must fail, not hang
        } catch (DistException e) {
            System.out.println("error: " + e.getMessage());
            System.exit(2);
        }
    }
}
