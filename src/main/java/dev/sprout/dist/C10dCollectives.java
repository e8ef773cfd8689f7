package dev.sprout.dist;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.AllreduceOptions;
import org.bytedeco.pytorch.BroadcastOptions;
import org.bytedeco.pytorch.GlooDeviceVector;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.ReduceOp;
import org.bytedeco.pytorch.StringVector;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;
import org.bytedeco.pytorch.global.torch;

/**
 * A c10d process group over a TCPStore served by rank 0 at MASTER_ADDR:MASTER_PORT, the rendezvous and transports
 * PyTorch's own jobs use: Gloo for tensors on the CPU, NCCL for tensors on a GPU (each rank on its own, cuda:LOCAL_RANK).
 * Sums run as allreduce over buckets: the tensors of a call are packed, in order, into flat buffers of at most
 * {@code bucketBytes}, so a step with many small gradients makes a few large transfers.
 *
 * <p>Ownership: a store made in Java is adopted by the first C++ consumer it is passed to (a second would free it
 * twice), so the process group gets {@code store.clone()} and this class keeps the original for its own text exchange.
 */
final class C10dCollectives implements Collectives {
    private final DistEnv env;
    private final long timeoutMs;
    private final long bucketBytes;
    private final TCPStore store;
    private final org.bytedeco.pytorch.Backend group;
    private final org.bytedeco.pytorch.Device device;
    private long commNanos;
    private long bytes;
    private boolean closed;

    C10dCollectives(DistEnv env, Duration timeout, long bucketBytes, org.bytedeco.pytorch.Device device) {
        this.env = env;
        this.device = device;
        this.timeoutMs = timeout.toMillis();
        this.bucketBytes = Math.max(1, bucketBytes);
        long start = System.nanoTime();
        TCPStoreOptions so = new TCPStoreOptions();
        so.port((short) env.masterPort()).isServer(env.isRankZero()).waitWorkers(false).timeout(new Milliseconds(timeoutMs));
        try {
            this.store = new TCPStore(env.masterAddr(), so);
        } catch (RuntimeException e) {
            throw new DistException(env.isRankZero()
                    ? "rank 0 cannot serve the store on " + env.masterAddr() + ":" + env.masterPort() + " (is the port in use?): " + firstLine(e)
                    : "rank " + env.rank() + " cannot reach rank 0's store at " + env.masterAddr() + ":" + env.masterPort() + " within "
                            + timeoutMs / 1000 + " s: " + firstLine(e));
        }
        try {
            this.group = device.is_cuda() ? nccl(store, env, timeoutMs) : gloo(store, env, timeoutMs);
        } catch (RuntimeException e) {
            throw new DistException("rank " + env.rank() + ": the process group of " + env.worldSize() + " ranks did not form within "
                    + timeoutMs / 1000 + " s (a rank missing or started with another WORLD_SIZE?): " + firstLine(e));
        }
        commNanos += System.nanoTime() - start;
    }

    private static ProcessGroupGloo gloo(TCPStore store, DistEnv env, long timeoutMs) {
        ProcessGroupGloo.Options go = ProcessGroupGloo.Options.create(new Milliseconds(timeoutMs));
        go.devices(new GlooDeviceVector(device(env.masterAddr())));
        return new ProcessGroupGloo(store.clone(), env.rank(), env.worldSize(), go);
    }

    /** NCCL, from the CUDA build's natives (the gpu Maven profile); not run on a GPU yet (docs/DISTRIBUTED.md). */
    private static org.bytedeco.pytorch.Backend nccl(TCPStore store, DistEnv env, long timeoutMs) {
        org.bytedeco.pytorch.nccl.ProcessGroupNCCL g = new org.bytedeco.pytorch.nccl.ProcessGroupNCCL(store.clone(), env.rank(), env.worldSize(),
                org.bytedeco.pytorch.nccl.ProcessGroupNCCL.Options.create());
        g.setTimeout(new Milliseconds(timeoutMs));
        return g;
    }

    /**
     * The network device Gloo binds: the interface GLOO_SOCKET_IFNAME names (as PyTorch reads it), loopback when the
     * master is on this machine's loopback, else the address this host's name resolves to.
     */
    private static org.bytedeco.pytorch.gloo.Device device(String master) {
        String ifname = System.getenv("GLOO_SOCKET_IFNAME");
        if (ifname != null && !ifname.isBlank()) return ProcessGroupGloo.createDeviceForInterface(ifname.split(",")[0]);
        try {
            if (InetAddress.getByName(master).isLoopbackAddress()) return ProcessGroupGloo.createDeviceForHostname("127.0.0.1");
        } catch (UnknownHostException e) {
            throw new DistException("MASTER_ADDR=" + master + " does not resolve: " + e.getMessage());
        }
        return ProcessGroupGloo.createDefaultDevice();
    }

    @Override
    public DistEnv env() {
        return env;
    }

    @Override
    public void sum(List<Tensor> tensors) {
        inBuckets(tensors, this::allreduce);
    }

    @Override
    public void broadcast(List<Tensor> tensors, int root) {
        inBuckets(tensors, flat -> broadcast(flat, root));
    }

    /** Runs {@code collective} on the tensors packed in order into flat buffers of at most bucketBytes, then unpacks. */
    private void inBuckets(List<Tensor> tensors, java.util.function.Consumer<Tensor> collective) {
        List<Tensor> bucket = new ArrayList<>();
        long inBucket = 0;
        for (Tensor t : tensors) {
            long b = t.nbytes();
            if (!bucket.isEmpty() && inBucket + b > bucketBytes) {
                bucket(bucket, collective);
                bucket.clear();
                inBucket = 0;
            }
            bucket.add(t);
            inBucket += b;
        }
        if (!bucket.isEmpty()) bucket(bucket, collective);
    }

    private void bucket(List<Tensor> bucket, java.util.function.Consumer<Tensor> collective) {
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor flat;
            if (bucket.size() == 1 && bucket.get(0).is_contiguous()) {
                flat = bucket.get(0);
            } else {
                TensorVector parts = new TensorVector();
                for (Tensor t : bucket) parts.push_back(t.reshape(-1));
                flat = torch.cat(parts);
            }
            collective.accept(flat);
            if (flat != bucket.get(0)) {
                long at = 0;
                for (Tensor t : bucket) {
                    long n = t.numel();
                    t.copy_(flat.narrow(0, at, n).view_as(t));
                    at += n;
                }
            }
        }
    }

    private void allreduce(Tensor flat) {
        long start = System.nanoTime();
        AllreduceOptions ao = new AllreduceOptions();
        ao.reduceOp(new ReduceOp(ReduceOp.RedOpType.SUM));
        ao.timeout(new Milliseconds(timeoutMs));
        try {
            Work w = group.allreduce(new TensorVector(flat), ao);
            if (!w._wait(new Milliseconds(timeoutMs))) throw new DistException(lost("an allreduce timed out"));
        } catch (DistException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new DistException(lost("an allreduce failed: " + firstLine(e)), e);
        }
        bytes += flat.nbytes();
        commNanos += System.nanoTime() - start;
    }

    @Override
    public double[] sum(double... values) {
        try (PointerScope scope = new PointerScope()) {
            Tensor t = torch.zeros(new long[]{values.length}, new org.bytedeco.pytorch.TensorOptions().dtype(
                    new org.bytedeco.pytorch.ScalarTypeOptional(torch.ScalarType.Double)));
            t.data_ptr_double().put(values);
            Tensor onDevice = device.is_cuda() ? t.to(device, torch.ScalarType.Double) : t; // NCCL reduces GPU tensors only
            allreduce(onDevice);
            Tensor back = onDevice.cpu();
            double[] out = new double[values.length];
            back.data_ptr_double().get(out);
            return out;
        }
    }

    @Override
    public void broadcast(Tensor t, int root) {
        long start = System.nanoTime();
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor buf = t.is_contiguous() ? t : t.contiguous();
            BroadcastOptions bo = new BroadcastOptions();
            bo.rootRank(root);
            bo.timeout(new Milliseconds(timeoutMs));
            Work w = group.broadcast(new TensorVector(buf), bo);
            if (!w._wait(new Milliseconds(timeoutMs))) throw new DistException(lost("a broadcast timed out"));
            if (buf != t) t.copy_(buf);
        } catch (DistException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new DistException(lost("a broadcast failed: " + firstLine(e)), e);
        }
        commNanos += System.nanoTime() - start;
    }

    @Override
    public List<String> exchange(String key, String mine) {
        long start = System.nanoTime();
        String prefix = "sprout/" + key + "/";
        try {
            store.set(prefix + env.rank(), mine);
            String[] keys = new String[env.worldSize()];
            for (int r = 0; r < keys.length; r++) keys[r] = prefix + r;
            store._wait(new StringVector(keys), new Milliseconds(timeoutMs));
            List<String> out = new ArrayList<>(keys.length);
            for (String k : keys) out.add(store.get_to_str(k));
            return out;
        } catch (RuntimeException e) {
            throw new DistException(lost("the exchange of '" + key + "' through the store failed: " + firstLine(e)), e);
        } finally {
            commNanos += System.nanoTime() - start;
        }
    }

    private String lost(String what) {
        return "rank " + env.rank() + ": " + what + " (after at most " + timeoutMs / 1000 + " s, dist.timeout_s): a peer rank is gone or stalled";
    }

    private static String firstLine(Throwable e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    @Override
    public long commNanos() {
        return commNanos;
    }

    @Override
    public long bytesReduced() {
        return bytes;
    }

    /** The group first (its connections reference the store), then the store: the order c10d expects. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            group.shutdown();
        } catch (RuntimeException ignored) {
            // a group whose peers are gone may fail to shut down cleanly; the process is ending anyway
        }
    }
}
