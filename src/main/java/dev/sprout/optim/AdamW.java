package dev.sprout.optim;

import static dev.sprout.model.Tensors.s;

import dev.sprout.config.OptimConfig;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * AdamW with decoupled weight decay, written on state tensors that Sprout owns (libtorch's built-in optimizer
 * hides its state from Java). The arithmetic follows torch.optim.AdamW's single-tensor path step for step.
 *
 * <p>Each parameter keeps its own step counter, so a parameter whose gradient is undefined in a step (a
 * skipped block) is not touched at all: no moment decay, no weight decay, no step. The per-tensor update is a
 * static function of (param, grad, m, v, bias corrections) so that slice-wise updates with per-slice counters
 * can call it on row/column views.
 */
public final class AdamW {
    /** Optimizer state of one parameter. {@code step} counts the updates this parameter has received. */
    public static final class State {
        public final Tensor param;
        public final Tensor m;
        public final Tensor v;
        public final boolean decay;
        public long step;

        State(Tensor param, boolean decay) {
            this.param = param;
            this.decay = decay;
            this.m = torch.zeros_like(param).set_requires_grad(false);
            this.v = torch.zeros_like(param).set_requires_grad(false);
        }
    }

    private final OptimConfig cfg;
    private final Map<String, State> states = new LinkedHashMap<>();

    /** Weight decay applies to tensors of two or more dimensions only (matrices and embeddings). */
    public AdamW(Map<String, Tensor> params, OptimConfig cfg) {
        this.cfg = cfg;
        params.forEach((name, p) -> states.put(name, new State(p, p.dim() >= 2)));
    }

    public Map<String, State> states() {
        return Collections.unmodifiableMap(states);
    }

    /** One update with learning rate lr of every parameter that has a gradient. */
    public void step(double lr) {
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            for (State st : states.values()) {
                Tensor g = st.param.grad();
                if (!g.defined()) continue;
                st.step++;
                double bc1 = 1 - Math.pow(cfg.beta1(), st.step);
                double bc2 = 1 - Math.pow(cfg.beta2(), st.step);
                update(st.param, g, st.m, st.v, lr, st.decay ? cfg.weightDecay() : 0.0, cfg.beta1(), cfg.beta2(), cfg.eps(), bc1, bc2);
            }
        }
    }

    /** Drops every gradient (undefined, not zero), so the next step's skipped parameters stay untouched. */
    public void zeroGrad() {
        for (State st : states.values()) {
            Tensor g = st.param.mutable_grad();
            if (g.defined()) g.reset();
        }
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
}
