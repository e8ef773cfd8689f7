package dev.sprout.dist;

import java.time.Duration;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * What training needs from the other ranks of a data-parallel job: sums of tensors (gradients, the loss), a broadcast,
 * and a text exchange for start-up checks. {@link #open} gives a job of one ({@link #single}), which does nothing and
 * opens nothing, or a libtorch c10d process group over a TCPStore, Gloo on the CPU or NCCL on a GPU
 * ({@link C10dCollectives}). Every call is collective: every rank makes the same calls in the same order with tensors of
 * the same shapes.
 */
public interface Collectives extends AutoCloseable {
    /** This process's place in the job. */
    DistEnv env();

    /** Sums each tensor elementwise over the ranks, in place: every rank ends with the same sums. */
    void sum(List<Tensor> tensors);

    /** Sums a few numbers over the ranks (the loss, a stop flag), returning the sums in the same order. */
    double[] sum(double... values);

    /** Replaces {@code t} with rank {@code root}'s, on every rank. */
    void broadcast(Tensor t, int root);

    /** Replaces each tensor with rank {@code root}'s, on every rank, in buckets as {@link #sum(List)} does. */
    void broadcast(List<Tensor> tensors, int root);

    /** Every rank's {@code mine} for {@code key}, indexed by rank; each key is used once per job. */
    List<String> exchange(String key, String mine);

    /** Nanoseconds spent in collectives so far (what the progress line and metrics report as communication). */
    long commNanos();

    /** Bytes this rank has contributed to sums so far. */
    long bytesReduced();

    /** Closes the process group, then the store. */
    @Override
    void close();

    /**
     * The collectives of this job: none for a job of one; a group (Gloo for a CPU {@code device}, NCCL for a GPU) whose
     * every collective fails after {@code timeout} instead of waiting forever for a lost peer.
     */
    static Collectives open(DistEnv env, Duration timeout, long bucketBytes, org.bytedeco.pytorch.Device device) {
        return env.distributed() ? new C10dCollectives(env, timeout, bucketBytes, device) : single();
    }

    /** {@link #open(DistEnv, Duration, long, org.bytedeco.pytorch.Device)} on the CPU (Gloo). */
    static Collectives open(DistEnv env, Duration timeout, long bucketBytes) {
        return open(env, timeout, bucketBytes, new org.bytedeco.pytorch.Device("cpu"));
    }

    /** A job of one process: every sum is the value itself, nothing is opened. */
    static Collectives single() {
        return new Collectives() {
            @Override
            public DistEnv env() {
                return DistEnv.SINGLE;
            }

            @Override
            public void sum(List<Tensor> tensors) {}

            @Override
            public double[] sum(double... values) {
                return values.clone();
            }

            @Override
            public void broadcast(Tensor t, int root) {}

            @Override
            public void broadcast(List<Tensor> tensors, int root) {}

            @Override
            public List<String> exchange(String key, String mine) {
                return List.of(mine);
            }

            @Override
            public long commNanos() {
                return 0;
            }

            @Override
            public long bytesReduced() {
                return 0;
            }

            @Override
            public void close() {}
        };
    }
}
