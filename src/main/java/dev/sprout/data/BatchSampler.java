package dev.sprout.data;

/**
 * Random training windows from the TRAIN split. Window i starts at a position computed from (seed, i) alone, so
 * the sampler's whole state is the counter {@link #position()}: saving it in a checkpoint and calling
 * {@link #seek(long)} on resume replays exactly the batches an uninterrupted run would have seen. Not thread-safe:
 * use one sampler per training loop.
 *
 * <p>In a data-parallel job of W ranks each rank has its own sampler with the job's seed: micro-batch k of a step is,
 * on rank r, the windows one process would draw for its micro-batch k W + r, and every sampler's position counts the
 * windows of all ranks. So W processes with batch b see exactly the windows of one process with batch b and W times the
 * gradient accumulation, and the position in a checkpoint means the same whatever the world size.
 */
public final class BatchSampler {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private final TokenDataset ds;
    private final int batch;
    private final int context;
    private final long seed;
    private final long starts;  // number of valid start offsets
    private final long[] window;
    private final int rank;
    private final int world;
    private long position;

    public BatchSampler(TokenDataset ds, int batch, int context, long seed) {
        this(ds, batch, context, seed, 0, 1);
    }

    /** Rank {@code rank}'s share of a job of {@code world} ranks (above). */
    public BatchSampler(TokenDataset ds, int batch, int context, long seed, int rank, int world) {
        if (batch <= 0) throw new IllegalArgumentException("batch must be > 0, got " + batch);
        if (context <= 0) throw new IllegalArgumentException("context must be > 0, got " + context);
        if (world < 1 || rank < 0 || rank >= world) throw new IllegalArgumentException("rank " + rank + " outside a world of " + world);
        long train = ds.tokens(Split.TRAIN);
        if (train < (long) context + 1) {
            throw new DataException(ds.dir() + ": train split has " + train + " tokens, fewer than context + 1 = "
                    + ((long) context + 1) + "; prepare more text or use a shorter context");
        }
        this.ds = ds;
        this.batch = batch;
        this.context = context;
        this.seed = seed;
        this.starts = train - context;
        this.window = new long[context + 1];
        this.rank = rank;
        this.world = world;
    }

    public int batch() {
        return batch;
    }

    public int context() {
        return context;
    }

    public long seed() {
        return seed;
    }

    /** Windows drawn so far by all ranks (advances by {@code batch} times the world size per {@link #next}). */
    public long position() {
        return position;
    }

    public void seek(long position) {
        if (position < 0) throw new IllegalArgumentException("position must be >= 0, got " + position);
        this.position = position;
    }

    /**
     * Fills {@code x[0, batch*context)} with inputs and {@code y} with the same windows shifted by one token (the
     * next-token targets), row-major, one window per row.
     */
    public void next(long[] x, long[] y) {
        int n = batch * context;
        if (x.length < n || y.length < n) {
            throw new IllegalArgumentException("x and y need batch*context = " + n + " elements, got " + x.length + " and " + y.length);
        }
        long first = position + (long) rank * batch;
        for (int b = 0; b < batch; b++) {
            ds.read(Split.TRAIN, windowStart(first + b), context + 1, window, 0);
            System.arraycopy(window, 0, x, b * context, context);
            System.arraycopy(window, 1, y, b * context, context);
        }
        position += (long) batch * world;
    }

    /** Start offset of window i: uniform over [0, trainTokens - context - 1], a pure function of (seed, i). */
    public long windowStart(long i) {
        long v = mix(mix(seed) + i * GOLDEN);
        // Unbiased reduction: reject the lowest 2^64 mod n values, then take the remainder. Rejection happens with
        // probability < n / 2^64, and its redraws are still a function of (seed, i).
        long threshold = Long.remainderUnsigned(-starts, starts);
        while (Long.compareUnsigned(v, threshold) < 0) v = mix(v + GOLDEN);
        return Long.remainderUnsigned(v, starts);
    }

    /** SplitMix64's finalizer: a bijective 64-bit mix with full avalanche. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
