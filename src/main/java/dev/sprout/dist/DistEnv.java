package dev.sprout.dist;

import java.util.Map;

/**
 * This process's place in a data-parallel job, from the variables torchrun (and Slurm or Kubernetes PyTorchJob set-ups
 * written for it) exports: {@code RANK}, {@code WORLD_SIZE}, {@code LOCAL_RANK}, {@code LOCAL_WORLD_SIZE},
 * {@code MASTER_ADDR}, {@code MASTER_PORT}. A process without them, or with {@code WORLD_SIZE=1}, is a job of one: it
 * opens no store and no process group and trains exactly as a plain {@code sprout train}.
 */
public record DistEnv(int rank, int worldSize, int localRank, int localWorldSize, String masterAddr, int masterPort) {
    public static final DistEnv SINGLE = new DistEnv(0, 1, 0, 1, null, 0);

    /** Whether other processes take part (and collectives are needed). */
    public boolean distributed() {
        return worldSize > 1;
    }

    public boolean isRankZero() {
        return rank == 0;
    }

    /** This process's environment. */
    public static DistEnv fromEnvironment() {
        return from(System.getenv());
    }

    /** Reads the torchrun variables; a set that cannot describe a job stops with one line naming the variable. */
    public static DistEnv from(Map<String, String> env) {
        String rank = env.get("RANK"), world = env.get("WORLD_SIZE");
        if (rank == null && world == null) return SINGLE;
        if (world == null) throw new DistException("RANK=" + rank + " is set but WORLD_SIZE is not: set both (a launcher such as `sprout launch` or torchrun does), or neither to train in one process");
        int w = integer("WORLD_SIZE", world);
        if (w < 1) throw new DistException("WORLD_SIZE must be >= 1, got " + world);
        if (rank == null) throw new DistException("WORLD_SIZE=" + world + " is set but RANK is not: set RANK to this process's rank in 0.." + (w - 1) + " (a launcher such as `sprout launch` or torchrun does), or unset WORLD_SIZE");
        int r = integer("RANK", rank);
        if (r < 0 || r >= w) throw new DistException("RANK=" + rank + " is outside 0.." + (w - 1) + " for WORLD_SIZE=" + w);
        int localWorld = env.containsKey("LOCAL_WORLD_SIZE") ? integer("LOCAL_WORLD_SIZE", env.get("LOCAL_WORLD_SIZE")) : w;
        int local = env.containsKey("LOCAL_RANK") ? integer("LOCAL_RANK", env.get("LOCAL_RANK")) : r % Math.max(1, localWorld);
        if (localWorld < 1 || local < 0 || local >= localWorld) {
            throw new DistException("LOCAL_RANK=" + local + " is outside 0.." + (localWorld - 1) + " for LOCAL_WORLD_SIZE=" + localWorld);
        }
        if (w == 1) return new DistEnv(0, 1, 0, 1, null, 0);
        String addr = env.get("MASTER_ADDR"), port = env.get("MASTER_PORT");
        if (addr == null || addr.isBlank()) throw new DistException("WORLD_SIZE=" + w + " needs MASTER_ADDR, the host of rank 0's store");
        if (port == null) throw new DistException("WORLD_SIZE=" + w + " needs MASTER_PORT, the port of rank 0's store");
        int p = integer("MASTER_PORT", port);
        if (p < 1 || p > 65535) throw new DistException("MASTER_PORT must be in 1..65535, got " + port);
        return new DistEnv(r, w, local, localWorld, addr, p);
    }

    private static int integer(String name, String value) {
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new DistException(name + " must be a whole number, got '" + value + "'");
        }
    }
}
