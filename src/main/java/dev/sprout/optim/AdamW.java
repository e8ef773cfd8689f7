package dev.sprout.optim;

import static dev.sprout.model.Tensors.s;

import dev.sprout.config.OptimConfig;
import dev.sprout.model.Tensors;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
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
 */
public final class AdamW {
    /** Optimizer state of one parameter. */
    public static final class State {
        public final Tensor param;
        public final Tensor m;
        public final Tensor v;
        public final boolean decay;
        /** -1 for a whole-tensor counter, else the axis whose rows or columns count separately. */
        public final int sliceAxis;
        /** Updates received: one entry (whole tensor) or one per slice along {@link #sliceAxis}. */
        public final long[] steps;

        State(Tensor param, boolean decay, int sliceAxis) {
            this.param = param;
            this.decay = decay;
            this.sliceAxis = sliceAxis;
            this.m = torch.zeros_like(param).set_requires_grad(false);
            this.v = torch.zeros_like(param).set_requires_grad(false);
            this.steps = new long[sliceAxis < 0 ? 1 : (int) param.size(sliceAxis)];
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
        this.cfg = cfg;
        params.forEach((name, p) -> states.put(name, new State(p, p.dim() >= 2, sliceAxes.getOrDefault(name, -1))));
    }

    public Map<String, State> states() {
        return Collections.unmodifiableMap(states);
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
                Slice slice = slices.get(e.getKey());
                Tensor sliceGrad = slice == null ? null : sliceGrads.get(e.getKey());
                Tensor g = st.param.grad();
                if (sliceGrad == null && !g.defined()) continue;
                double wd = st.decay ? cfg.weightDecay() : 0.0;
                if (slice == null) {
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

    /** Drops every gradient (undefined, not zero), so the next step's skipped parameters stay untouched. */
    public void zeroGrad() {
        for (State st : states.values()) {
            Tensor g = st.param.mutable_grad();
            if (g.defined()) g.reset();
        }
    }

    /** Zeroes the moments and counters of some slices (SwitchLoRA's reset), or of the whole tensor when index is null. */
    public void resetState(String name, Slice slice) {
        State st = states.get(name);
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            if (slice == null) {
                st.m.zero_();
                st.v.zero_();
                Arrays.fill(st.steps, 0);
            } else {
                Tensor ix = Tensors.intIndex(slice.index(), st.param.device());
                st.m.index_fill_(slice.axis(), ix, s(0));
                st.v.index_fill_(slice.axis(), ix, s(0));
                for (int i : slice.index()) st.steps[i] = 0;
            }
        }
    }

    /** Copies one parameter's moments and step counters onto another of the same shape (a copied block's). */
    public void copyState(String src, String dst) {
        State from = states.get(src), to = states.get(dst);
        if (from == null || to == null) throw new IllegalArgumentException("no optimizer state for " + (from == null ? src : dst));
        try (NoGradGuard ng = new NoGradGuard()) {
            to.m.copy_(from.m);
            to.v.copy_(from.v);
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
