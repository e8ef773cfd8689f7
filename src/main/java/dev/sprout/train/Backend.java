package dev.sprout.train;

import dev.sprout.config.ConfigException;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;

/** Process-wide libtorch settings: thread count, deterministic kernels, the compute device. */
public final class Backend {
    private static boolean initialised;

    private Backend() {}

    /** Threads: the config's value, else SPROUT_THREADS, else every available core. Deterministic kernels on. */
    public static synchronized void init(int configuredThreads) {
        int threads = configuredThreads;
        if (threads <= 0) {
            String env = System.getenv("SPROUT_THREADS");
            threads = env != null && env.matches("\\d+") && Integer.parseInt(env) > 0 ? Integer.parseInt(env) : Runtime.getRuntime().availableProcessors();
        }
        torch.set_num_threads(threads);
        if (!initialised) {
            torch.globalContext().setDeterministicAlgorithms(true, false);
            initialised = true;
        }
    }

    public static Device device(String name) {
        if (name.startsWith("cuda") && torch.cuda_device_count() == 0) {
            throw new ConfigException("device: '" + name + "' asked for, but this libtorch build sees no CUDA device (use the -gpu natives, or device: cpu)");
        }
        return new Device(name);
    }

    /**
     * The device of one rank of a job: a plain "cuda" means this machine's GPU number LOCAL_RANK, so the ranks of a machine
     * each take their own (as torchrun jobs do); "cuda:N" and "cpu" are taken as they are.
     */
    public static Device device(String name, dev.sprout.dist.DistEnv env) {
        return device(name.equals("cuda") && env.localWorldSize() > 1 ? "cuda:" + env.localRank() : name);
    }
}
