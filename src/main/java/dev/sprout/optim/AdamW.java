package dev.sprout.optim;

import dev.sprout.tensor.Slice;
import static dev.sprout.tensor.Tensors.s;

import dev.sprout.config.OptimConfig;
import dev.sprout.tensor.Tensors;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.StringViewOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * AdamW with decoupled weight decay, written on state tensors that Sprout owns (libtorch's built-in optimizer
 * hides its state from Java). The arithmetic follows torch.optim.AdamW's single-tensor path step for step.
 *
 * <p>A parameter whose gradient is undefined in a step (a skipped block) is not touched at all: no moment
 * decay, no weight decay, no step. A parameter that can be sliced (the rows of q/k/v/up/gate, the columns of
 * o/down) keeps one step counter per row or column, and a step may update only some of its slices: the other
 * slices, their moments and their counters stay bit for bit as they were (subnetwork training, and the
 * per-vector counters of SwitchLoRA).
 *
 * <p>Sharded (ZeRO stage 1): an optimizer built with an {@code owned} predicate keeps moments only for the parameters
 * this rank owns and updates only those; the others' states exist with empty moments ({@link State#owned} false) so
 * every rank walks the same list, and the caller broadcasts each updated parameter from its owner.
 *
 * <p>A matrix marked with {@link #project} is trained with GaLore (Zhao et al. 2024): the weights stay full rank,
 * but its Adam moments live in a rank-r space spanned by the top singular vectors of its gradient, refreshed
 * every few updates, so their memory shrinks from 2mn to 2r·max(m, n) floats (plus the mr or nr basis).
 */
public final class AdamW {
    /** GaLore's default scale alpha on the back-projected update (the paper's and reference code's 0.25). */
    public static final double DEFAULT_GALORE_SCALE = 0.25;

    /**
     * The GaLore projection of one matrix W [m, n]: {@code matrix} holds the top-{@code rank} left singular vectors
     * P [m, r] of a recent gradient when {@code left} (m <= n, moments shaped like P^T G [r, n]), else the right
     * ones Q [n, r] (moments shaped like G Q [m, r]). It is recomputed at update counts 1, updateEvery + 1, ...
     */
    public record Projection(Tensor matrix, boolean left, int rank, int updateEvery, double scale) {}

    /** Optimizer state of one parameter. */
    public static final class State {
        public final Tensor param;
        /** The moments: shaped like the parameter, or like its projected gradient when {@link #projection} is set. */
        public final Tensor m;
        public final Tensor v;
        public final boolean decay;
        /** -1 for a whole-tensor counter, else the axis whose rows or columns count separately. */
        public final int sliceAxis;
        /** Updates received: one entry (whole tensor) or one per slice along {@link #sliceAxis}. */
        public final long[] steps;
        /** Null for plain AdamW; set for a GaLore matrix, which always has a whole-tensor counter. */
        public final Projection projection;
        /** Whether this rank keeps and updates this parameter's state (always, unless the optimizer is sharded). */
        public final boolean owned;

        State(Tensor param, boolean decay, int sliceAxis, boolean owned) {
            this.param = param;
            this.decay = decay;
            this.sliceAxis = sliceAxis;
            this.owned = owned;
            // the handles zeros_like returns own their tensors (an in-place call's returned handle would not), so release() frees them
            this.m = owned ? torch.zeros_like(param) : torch.empty(0);
            this.v = owned ? torch.zeros_like(param) : torch.empty(0);
            this.steps = new long[sliceAxis < 0 ? 1 : (int) param.size(sliceAxis)];
            this.projection = null;
        }

        /** A fresh GaLore state; the basis is allocated now (zeros) so a checkpoint can be restored into it. */
        State(Tensor param, int rank, int updateEvery, double scale, boolean owned) {
            long rows = param.size(0), cols = param.size(1);
            boolean left = rows <= cols;
            this.param = param;
            this.decay = true;
            this.sliceAxis = -1;
            this.owned = owned;
            this.m = owned ? param.new_zeros(momentShape(left, rows, cols, rank), new TensorOptions()) : torch.empty(0);
            this.v = owned ? torch.zeros_like(m) : torch.empty(0);
            this.steps = new long[1];
            Tensor basis = owned ? param.new_zeros(new long[]{left ? rows : cols, rank}, new TensorOptions()) : torch.empty(0);
            this.projection = new Projection(basis, left, rank, updateEvery, scale);
        }

        private static long[] momentShape(boolean left, long rows, long cols, int rank) {
            return left ? new long[]{rank, cols} : new long[]{rows, rank};
        }

        /** The shape of the moments on the rank that owns them (the parameter's, or the projected gradient's). */
        public long[] momentShape() {
            if (projection == null) return Tensors.shape(param);
            return momentShape(projection.left(), param.size(0), param.size(1), projection.rank());
        }

        /** The shape of the GaLore basis on the rank that owns it. */
        public long[] basisShape() {
            return new long[]{projection.left() ? param.size(0) : param.size(1), projection.rank()};
        }

        /** The single count when every slice has the same, else -1. */
        long uniformStep() {
            long first = steps[0];
            for (long s : steps) if (s != first) return -1;
            return first;
        }
    }

    private final OptimConfig cfg;
    private final Map<String, State> states = new LinkedHashMap<>();

    /** Plain AdamW: one counter per tensor. */
    public AdamW(Map<String, Tensor> params, OptimConfig cfg) {
        this(params, Map.of(), cfg);
    }

    /**
     * @param sliceAxes for sliceable parameters, the axis (0 rows, 1 columns) whose slices keep their own counters.
     *                  Weight decay applies to tensors of two or more dimensions only.
     */
    public AdamW(Map<String, Tensor> params, Map<String, Integer> sliceAxes, OptimConfig cfg) {
        this(params, sliceAxes, java.util.Set.of(), cfg);
    }

    /**
     * @param sliceAxes for sliceable parameters, the axis (0 rows, 1 columns) whose slices keep their own counters.
     * @param noDecay   parameters never weight-decayed (besides every tensor of fewer than two dimensions)
     */
    public AdamW(Map<String, Tensor> params, Map<String, Integer> sliceAxes, java.util.Set<String> noDecay, OptimConfig cfg) {
        this(params, sliceAxes, noDecay, name -> true, cfg);
    }

    /** @param owned the parameters whose state this rank keeps and updates (a sharded optimizer); the others only have a place */
    public AdamW(Map<String, Tensor> params, Map<String, Integer> sliceAxes, java.util.Set<String> noDecay, Predicate<String> owned, OptimConfig cfg) {
        this.cfg = cfg;
        params.forEach((name, p) -> states.put(name, new State(p, p.dim() >= 2 && !noDecay.contains(name), sliceAxes.getOrDefault(name, -1), owned.test(name))));
    }

    public Map<String, State> states() {
        return Collections.unmodifiableMap(states);
    }

    /**
     * Trains the 2-D parameter {@code name} with GaLore from now on: its moments are replaced by zeros of the
     * projected shape, its counter by a single whole-tensor counter at 0 (so its next update computes a basis),
     * and it can no longer be updated by slices. Call it before training, outside any PointerScope (the new state
     * must outlive it).
     *
     * @param rank        r, at most min(m, n)
     * @param updateEvery T: the basis is recomputed from the gradient at update counts 1, T + 1, 2T + 1, ...
     * @param scale       alpha, the factor on the back-projected update ({@link #DEFAULT_GALORE_SCALE})
     */
    public void project(String name, int rank, int updateEvery, double scale) {
        State st = states.get(name);
        if (st == null) throw new IllegalArgumentException("no optimizer state for " + name);
        long[] shape = Tensors.shape(st.param);
        if (shape.length != 2) throw new IllegalArgumentException(name + " has shape " + Arrays.toString(shape) + ": GaLore projects 2-D parameters only");
        long maxRank = Math.min(shape[0], shape[1]);
        if (rank < 1 || rank > maxRank) throw new IllegalArgumentException(name + ": GaLore rank " + rank + " outside [1, " + maxRank + "]");
        if (updateEvery < 1) throw new IllegalArgumentException(name + ": GaLore update interval " + updateEvery + " must be at least 1");
        if (!(scale > 0) || Double.isInfinite(scale)) throw new IllegalArgumentException(name + ": GaLore scale " + scale + " must be positive and finite");
        states.put(name, new State(st.param, rank, updateEvery, scale, st.owned));
    }

    /** Bytes of optimizer state (moments and GaLore bases, not the step counters) over all parameters. */
    public long stateBytes() {
        return stateBytes(name -> true);
    }

    /** Bytes of optimizer state (moments and GaLore bases) of the parameters whose names {@code names} accepts. */
    public long stateBytes(Predicate<String> names) {
        long bytes = 0;
        for (var e : states.entrySet()) {
            if (!names.test(e.getKey())) continue;
            State st = e.getValue();
            bytes += st.m.nbytes() + st.v.nbytes() + (st.projection == null ? 0 : st.projection.matrix().nbytes());
        }
        return bytes;
    }

    /** One update of every parameter that has a gradient, whole tensors. */
    public void step(double lr) {
        step(lr, Map.of());
    }

    /**
     * One update with learning rate lr. A parameter listed in {@code slices} has only that slice updated (its
     * gradient elsewhere is ignored); others with a gradient are updated whole.
     */
    public void step(double lr, Map<String, Slice> slices) {
        step(lr, slices, Map.of());
    }

    /**
     * One update with learning rate lr. A parameter listed in {@code slices} has only that slice updated: with the
     * slice's own gradient from {@code sliceGrads} when given there (shaped like the slice, rows or columns in the
     * slice's order), else with that slice of the parameter's gradient. Others with a gradient are updated whole.
     */
    public void step(double lr, Map<String, Slice> slices, Map<String, Tensor> sliceGrads) {
        int trainingThreads = torch.get_num_threads();
        boolean fewerThreads = cfg.threads() > 0 && cfg.threads() < trainingThreads && onCpu();
        if (fewerThreads) torch.set_num_threads(cfg.threads());
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            for (var e : states.entrySet()) {
                State st = e.getValue();
                if (!st.owned) continue; // another rank's shard: it updates the parameter and broadcasts it
                Slice slice = slices.get(e.getKey());
                Tensor sliceGrad = slice == null ? null : sliceGrads.get(e.getKey());
                Tensor g = st.param.grad();
                if (sliceGrad == null && !g.defined()) continue;
                double wd = st.decay ? cfg.weightDecay() : 0.0;
                if (st.projection != null) {
                    if (slice != null) throw new IllegalArgumentException(e.getKey() + " is trained with GaLore and cannot be updated by slices");
                    st.steps[0]++;
                    updateProjected(st, g, lr, wd);
                } else if (slice == null) {
                    for (int i = 0; i < st.steps.length; i++) st.steps[i]++;
                    long t = st.uniformStep();
                    if (t >= 0) {
                        update(st.param, g, st.m, st.v, lr, wd, cfg.beta1(), cfg.beta2(), cfg.eps(),
                                1 - Math.pow(cfg.beta1(), t), 1 - Math.pow(cfg.beta2(), t));
                    } else {
                        updatePerSlice(st.param, g, st.m, st.v, lr, wd, st.steps, st.sliceAxis);
                    }
                } else {
                    if (slice.axis() != st.sliceAxis) {
                        throw new IllegalArgumentException(e.getKey() + " counts slices along axis " + st.sliceAxis + ", got a slice along " + slice.axis());
                    }
                    int[] idx = slice.index();
                    long[] counts = new long[idx.length];
                    for (int i = 0; i < idx.length; i++) counts[i] = ++st.steps[idx[i]];
                    Tensor ix = Tensors.intIndex(idx, st.param.device());
                    int a = slice.axis();
                    Tensor p = st.param.index_select(a, ix), m = st.m.index_select(a, ix), v = st.v.index_select(a, ix);
                    if (sliceGrad != null && !java.util.Arrays.equals(sliceGrad.sizes().vec().get(), p.sizes().vec().get())) {
                        throw new IllegalArgumentException(e.getKey() + ": slice gradient " + java.util.Arrays.toString(sliceGrad.sizes().vec().get())
                                + " does not match the slice " + java.util.Arrays.toString(p.sizes().vec().get()));
                    }
                    updatePerSlice(p, sliceGrad != null ? sliceGrad : g.index_select(a, ix), m, v, lr, wd, counts, a);
                    st.param.index_copy_(a, ix, p);
                    st.m.index_copy_(a, ix, m);
                    st.v.index_copy_(a, ix, v);
                }
            }
        } finally {
            if (fewerThreads) torch.set_num_threads(trainingThreads);
        }
    }

    private boolean onCpu() {
        return states.isEmpty() || states.values().iterator().next().param.device().is_cpu();
    }

    /** Frees the native memory of the optimizer state (moments, GaLore bases) now; the optimizer cannot be used afterwards. */
    public void release() {
        for (State st : states.values()) {
            st.m.deallocate();
            st.v.deallocate();
            if (st.projection != null) st.projection.matrix().deallocate();
        }
        states.clear();
    }

    /** Drops every gradient (undefined, not zero), so the next step's skipped parameters stay untouched. */
    public void zeroGrad() {
        for (State st : states.values()) {
            Tensor g = st.param.mutable_grad();
            if (g.defined()) g.reset();
        }
    }

    /**
     * Zeroes the moments of some slices (SwitchLoRA's reset), or of the whole tensor when slice is null, and their step
     * counters when {@code counters} (SwitchLoRA's official code can keep them). A GaLore basis is kept: with its counter
     * at 0 the next update recomputes it anyway.
     */
    public void resetState(String name, Slice slice, boolean counters) {
        State st = states.get(name);
        if (slice != null && st.projection != null) throw new IllegalArgumentException(name + " is trained with GaLore: its state cannot be reset by slices");
        if (!st.owned) return; // another rank's shard
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            if (slice == null) {
                st.m.zero_();
                st.v.zero_();
                if (counters) Arrays.fill(st.steps, 0);
            } else {
                Tensor ix = Tensors.intIndex(slice.index(), st.param.device());
                st.m.index_fill_(slice.axis(), ix, s(0));
                st.v.index_fill_(slice.axis(), ix, s(0));
                if (counters) for (int i : slice.index()) st.steps[i] = 0;
            }
        }
    }

    /**
     * Copies one parameter's moments and step counters onto another of the same shape (a copied block's), and the
     * GaLore basis with them: projected moments mean nothing without the basis they were projected on.
     */
    public void copyState(String src, String dst) {
        State from = states.get(src), to = states.get(dst);
        if (from == null || to == null) throw new IllegalArgumentException("no optimizer state for " + (from == null ? src : dst));
        int fromRank = from.projection == null ? 0 : from.projection.rank(), toRank = to.projection == null ? 0 : to.projection.rank();
        if (fromRank != toRank) {
            throw new IllegalArgumentException("cannot copy the optimizer state of " + src + " (GaLore rank " + fromRank + ") onto " + dst + " (GaLore rank " + toRank + ")");
        }
        if (from.owned != to.owned) throw new IllegalStateException("cannot copy the optimizer state of " + src + " onto " + dst + ": they are in different shards");
        if (!from.owned) return; // another rank's shard
        try (NoGradGuard ng = new NoGradGuard()) {
            to.m.copy_(from.m);
            to.v.copy_(from.v);
            if (from.projection != null) to.projection.matrix().copy_(from.projection.matrix());
        }
        System.arraycopy(from.steps, 0, to.steps, 0, to.steps.length);
    }

    /**
     * The AdamW update of one tensor (or a view of one): decoupled decay, moment updates, bias-corrected step.
     * Must run under NoGradGuard.
     */
    public static void update(Tensor p, Tensor g, Tensor m, Tensor v, double lr, double weightDecay,
                              double beta1, double beta2, double eps, double bc1, double bc2) {
        if (weightDecay != 0) p.mul_(s(1 - lr * weightDecay));
        m.lerp_(g, s(1 - beta1));
        v.mul_(s(beta2));
        torch.addcmul_out(v, v, g, g, s(1 - beta2));
        Tensor denom = v.sqrt().div_(s(Math.sqrt(bc2))).add_(s(eps));
        torch.addcdiv_out(p, p, m, denom, s(-lr / bc1));
    }

    /**
     * The GaLore update of a whole matrix whose counter was just advanced: refresh the basis when due, Adam on the
     * projected gradient (moments kept across basis changes, as in GaLore's reference code), back-projection,
     * decoupled weight decay on the full matrix. Must run under NoGradGuard.
     */
    private void updateProjected(State st, Tensor g, double lr, double weightDecay) {
        Projection pr = st.projection;
        long t = st.steps[0];
        if ((t - 1) % pr.updateEvery() == 0) pr.matrix().copy_(topSingularVectors(g, pr.rank(), pr.left()));
        Tensor basis = pr.matrix();
        Tensor r = pr.left() ? basis.t().mm(g) : g.mm(basis);
        double b1 = cfg.beta1(), b2 = cfg.beta2(), bc1 = 1 - Math.pow(b1, t), bc2 = 1 - Math.pow(b2, t);
        if (weightDecay != 0) st.param.mul_(s(1 - lr * weightDecay));
        st.m.lerp_(r, s(1 - b1));
        st.v.mul_(s(b2));
        torch.addcmul_out(st.v, st.v, r, r, s(1 - b2));
        Tensor normalized = st.m.div(st.v.sqrt().div_(s(Math.sqrt(bc2))).add_(s(cfg.eps())));
        Tensor back = pr.left() ? basis.mm(normalized) : normalized.mm(basis.t());
        st.param.add_(back, s(-lr * pr.scale() / bc1));
    }

    /**
     * The top-{@code rank} left ({@code left}) or right singular vectors of g as columns. A singular vector's sign is
     * arbitrary and differs between LAPACK and CUDA; since the moments outlive a basis change, the sign changes the
     * update, so each column is signed to make its largest-magnitude entry positive.
     */
    private static Tensor topSingularVectors(Tensor g, int rank, boolean left) {
        var svd = torch.linalg_svd(g, false, new StringViewOptional());
        Tensor basis = left ? svd.get0().narrow(1, 0, rank) : svd.get2().narrow(0, 0, rank).t();
        Tensor peak = basis.abs().argmax(new LongOptional(0), true);
        return basis.mul(basis.gather(0, peak).sign());
    }

    /** The same update where each slice along {@code axis} has its own step count (bias corrections differ). */
    private void updatePerSlice(Tensor p, Tensor g, Tensor m, Tensor v, double lr, double weightDecay, long[] counts, int axis) {
        double b1 = cfg.beta1(), b2 = cfg.beta2();
        long first = counts[0];
        boolean uniform = Arrays.stream(counts).allMatch(c -> c == first);
        if (uniform) {
            update(p, g, m, v, lr, weightDecay, b1, b2, cfg.eps(), 1 - Math.pow(b1, first), 1 - Math.pow(b2, first));
            return;
        }
        float[] stepSize = new float[counts.length], bc2Sqrt = new float[counts.length];
        for (int i = 0; i < counts.length; i++) {
            stepSize[i] = (float) (lr / (1 - Math.pow(b1, counts[i])));
            bc2Sqrt[i] = (float) Math.sqrt(1 - Math.pow(b2, counts[i]));
        }
        long[] shape = new long[(int) p.dim()];
        Arrays.fill(shape, 1);
        shape[axis] = counts.length;
        Tensor size = torch.tensor(stepSize).view(shape).to(p.device(), torch.ScalarType.Float);
        Tensor corr = torch.tensor(bc2Sqrt).view(shape).to(p.device(), torch.ScalarType.Float);
        if (weightDecay != 0) p.mul_(s(1 - lr * weightDecay));
        m.lerp_(g, s(1 - b1));
        v.mul_(s(b2));
        torch.addcmul_out(v, v, g, g, s(1 - b2));
        Tensor denom = v.sqrt().div_(corr).add_(s(cfg.eps()));
        p.sub_(m.div(denom).mul_(size));
    }
}
