package dev.sprout.data;

/**
 * A fixed set of validation windows: evenly spaced, non-overlapping, the same on every call and in every run with
 * the same data and context, so validation losses are comparable across evals and across runs.
 */
public final class EvalWindows {
    private final TokenDataset ds;
    private final int context;
    private final long requestedTokens;
    private final long[] starts;
    private final boolean shortOfRequest;
    private final Split split;

    /**
     * @param evalTokens input tokens to cover (rounded down to whole windows, at least one); when the VAL split
     *                   holds fewer, every window it has is used and {@link #shortOfRequest()} returns true
     */
    public EvalWindows(TokenDataset ds, int context, long evalTokens) {
        this(ds, context, evalTokens, Split.VAL);
    }

    /** The same windows over {@code split} (`sprout eval --split train`). */
    public EvalWindows(TokenDataset ds, int context, long evalTokens, Split split) {
        if (context <= 0) throw new IllegalArgumentException("context must be > 0, got " + context);
        if (evalTokens <= 0) throw new IllegalArgumentException("evalTokens must be > 0, got " + evalTokens);
        this.split = split;
        long val = ds.tokens(split);
        // Each window reads context + 1 tokens, but neighbours may share the boundary token: x ranges are disjoint.
        long fit = val <= 0 ? 0 : (val - 1) / context;
        if (fit == 0) {
            throw new DataException(ds.dir() + ": " + split.name().toLowerCase(java.util.Locale.ROOT) + " split has " + val + " tokens, fewer than context + 1 = "
                    + ((long) context + 1) + "; prepare with a larger val_fraction or use a shorter context");
        }
        long wanted = Math.max(1, evalTokens / context);
        long count = Math.min(wanted, fit);
        if (count > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("evalTokens too large: " + evalTokens);
        this.ds = ds;
        this.context = context;
        this.requestedTokens = evalTokens;
        this.starts = new long[(int) count];
        // start_k = floor(k * (val - 1) / count): gaps are at least floor((val - 1) / count) >= context.
        long q = (val - 1) / count, r = (val - 1) % count;
        for (int k = 0; k < count; k++) starts[k] = k * q + (k * r) / count;
        this.shortOfRequest = count < wanted;
    }

    public int context() {
        return context;
    }

    public int windows() {
        return starts.length;
    }

    /** Input tokens covered: windows() * context. */
    public long tokens() {
        return (long) starts.length * context;
    }

    public long requestedTokens() {
        return requestedTokens;
    }

    /** True when the VAL split was too short for the requested tokens, so all of it is used instead. */
    public boolean shortOfRequest() {
        return shortOfRequest;
    }

    public long windowStart(int i) {
        return starts[i];
    }

    public int batches(int batch) {
        if (batch <= 0) throw new IllegalArgumentException("batch must be > 0, got " + batch);
        return (starts.length + batch - 1) / batch;
    }

    /**
     * Fills rows of batch k (windows k*batch ..) into x and y (targets shifted by one), row-major.
     *
     * @return the number of rows written: {@code batch}, except possibly fewer in the last batch
     */
    public int batch(int k, int batch, long[] x, long[] y) {
        int nb = batches(batch);
        if (k < 0 || k >= nb) throw new IndexOutOfBoundsException("batch " + k + " of " + nb);
        int first = k * batch;
        int rows = Math.min(batch, starts.length - first);
        if (x.length < rows * context || y.length < rows * context) {
            throw new IllegalArgumentException("x and y need " + rows * context + " elements, got " + x.length + " and " + y.length);
        }
        long[] window = new long[context + 1];
        for (int row = 0; row < rows; row++) {
            ds.read(split, starts[first + row], context + 1, window, 0);
            System.arraycopy(window, 0, x, row * context, context);
            System.arraycopy(window, 1, y, row * context, context);
        }
        return rows;
    }
}
