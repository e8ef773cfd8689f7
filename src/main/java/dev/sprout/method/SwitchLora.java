package dev.sprout.method;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sprout.config.MethodConfig;
import dev.sprout.tensor.Tensors;
import dev.sprout.model.Transformer;
import dev.sprout.model.Transformer.Adapter;
import dev.sprout.tensor.Slice;
import dev.sprout.subnet.StepRandom;
import dev.sprout.subnet.SubnetPlan;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * SwitchLoRA (Zhou, Wang and Xu, arXiv 2406.06564), as its official code runs. Every block linear gets a rank-r adapter
 * (y = W x + s B A x, s = alpha / r) and two pools of K = min(out, in) candidate vectors, for A's rows and B's columns.
 * After each step's backward and clipping, a few adapter vectors are swapped with candidates: the old vector's
 * contribution is folded into the frozen W (so the layer's output is unchanged), the old vector goes back into the pool
 * and the candidate takes its place. The swapped vector's counterpart (B's column i for A's row i, and vice versa), whose
 * gradient depends on the swapped vector, has its AdamW moments (and, with {@code reset_step}, its step counter) zeroed
 * and is frozen for N steps. Over many swaps W accumulates a full-rank update. The swap rate decays: one count per layer
 * and step, n_t = r / interval(t) with interval(t) = interval0 / x^(t+1), x = 0.3^(1 / (ratio T)), stochastically rounded,
 * shared by A and B; which slots and candidates, and the cap that keeps the two sides apart: {@link SwitchSlots}.
 *
 * <p>Initialisation: candidates uniform with std_A = (sqrt(m) r / n^1.5)^(1/4) sqrt(gain) and std_B = (r / sqrt(m n))^(1/4)
 * sqrt(gain), gain = 1/sqrt(3), so s B A has nn.Linear's scale; the selected vectors are those {@link SwitchSlots} holds
 * at the start; W starts as its init minus s B A, so the adapted model computes the ordinary initial model. Adapters are
 * never weight-decayed (the optimizer's rule for every adapter), so a frozen vector's update is exactly zero.
 */
public final class SwitchLora implements TrainingMethod {
    /** Candidate pools and slot bookkeeping of one adapted linear. */
    static final class Layer {
        final String linear;
        final Tensor poolA; // [K, in]: candidates for A's rows
        final Tensor poolB; // [K, out]: candidates for B's columns
        final SwitchSlots slots;

        Layer(String linear, Tensor poolA, Tensor poolB, SwitchSlots slots) {
            this.linear = linear;
            this.poolA = poolA;
            this.poolB = poolB;
            this.slots = slots;
        }
    }

    /** One swap, for traces: at {@code step}, in {@code layer} (its index), side A or B, {@code slot} took pool index {@code candidate}. */
    record Swap(long step, int layer, char side, int slot, int candidate) {}

    /** Where swaps and frozen slots are reported as they happen (tests compare the trace with the official schedule). */
    interface Trace {
        void swap(Swap swap);

        /** The slots whose gradients are zeroed at this step, after its swaps. */
        void frozen(long step, int layer, int[] frozenA, int[] frozenB);
    }

    private static final double GAIN = 1 / Math.sqrt(3); // PyTorch's leaky-relu gain for a = sqrt(5)

    private final MethodConfig.Lora lora;
    private final MethodConfig.Switchlora cfg;
    private final SubnetPlan full;
    private final long seed;
    private final int totalSteps;
    private final List<Layer> layers = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private long swaps;
    private Trace trace;
    private java.util.function.DoubleSupplier uniforms; // stochastic rounding's draws, in place of the step's generator (tests)

    public SwitchLora(MethodConfig.Lora lora, MethodConfig.Switchlora cfg, int nLayer, int totalSteps, long seed) {
        this.lora = lora;
        this.cfg = cfg;
        this.full = SubnetPlan.full(nLayer);
        this.totalSteps = totalSteps;
        this.seed = seed;
    }

    @Override
    public String name() {
        return "switchlora";
    }

    @Override
    public void setup(Transformer model) {
        int r = lora.rank();
        LowRank.checkRank(model, r);
        SplittableRandom rng = StepRandom.forStep(seed, -2);
        double s = lora.alpha() / r;
        boolean random = cfg.candidates().equals("random");
        List<String> fixed = new ArrayList<>();
        for (String linear : model.blockLinears()) {
            Tensor w = model.param(linear + ".weight");
            long m = w.size(0), n = w.size(1);
            int k = (int) Math.min(m, n);
            double stdA = Math.pow(Math.sqrt(m) * r / Math.pow(n, 1.5), 0.25) * Math.sqrt(GAIN);
            double stdB = Math.pow(r / Math.sqrt((double) m * n), 0.25) * Math.sqrt(GAIN);
            Tensor poolA = LowRank.uniform(k, n, Math.sqrt(3) * stdA, rng), poolB = LowRank.uniform(k, m, Math.sqrt(3) * stdB, rng);
            Layer l = new Layer(linear, poolA, poolB, new SwitchSlots(r, k, random, rng));
            if (!l.slots.switchable()) fixed.add(linear);
            try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
                Tensor a = torch.index_select(l.poolA, 0, Tensors.intIndex(l.slots.heldA, l.poolA.device())).clone(); // [r, in]
                Tensor b = torch.index_select(l.poolB, 0, Tensors.intIndex(l.slots.heldB, l.poolB.device())).t().contiguous(); // [out, r]
                w.sub_(torch.mm(b, a).mul_(new Scalar(s)).to(w.device(), torch.ScalarType.Float));
                a.retainReference();
                b.retainReference();
                model.addAdapter(linear, a, b, s);
            }
            layers.add(l);
        }
        if (!fixed.isEmpty()) {
            notes.add("switchlora: method.lora.rank=" + r + " equals min(out, in) of " + fixed.size() + " of " + layers.size()
                    + " adapted linears (" + fixed.get(0) + (fixed.size() > 1 ? ", ..." : "") + "): their pools hold no other candidate, so"
                    + " nothing is switched there (as in the official code); they train as LoRA with SwitchLoRA's initialisation");
        }
    }

    @Override
    public List<String> notes() {
        return List.copyOf(notes);
    }

    @Override
    public SubnetPlan plan(long step) {
        return full;
    }

    /** Expected vectors swapped per side and layer at this step, r / interval(t), computed as the official code does. */
    public double expectedSwaps(long step) {
        double x = Math.pow(0.3, 1 / (cfg.ratio() * totalSteps));
        double rate = Math.max(Math.pow(x, step + 1), 1e-8);
        double interval = cfg.interval0() / rate;
        return lora.rank() / interval;
    }

    /** The adapted linears' pools and bookkeeping (tests read them). */
    List<Layer> layers() {
        return layers;
    }

    /** Reports every swap and each step's frozen slots to {@code trace} (tests). */
    void trace(Trace trace) {
        this.trace = trace;
    }

    /** Takes stochastic rounding's uniform draws from {@code uniforms} instead of the step's generator (tests). */
    void uniforms(java.util.function.DoubleSupplier uniforms) {
        this.uniforms = uniforms;
    }

    /** Vectors swapped so far in this process (both sides, all layers). */
    public long swaps() {
        return swaps;
    }

    @Override
    public void beforeUpdate(long step, ModelSurgery surgery) {
        Transformer model = surgery.model();
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            SplittableRandom rng = StepRandom.forStep(seed, step);
            double expected = expectedSwaps(step);
            for (int li = 0; li < layers.size(); li++) {
                Layer l = layers.get(li);
                Adapter ad = model.adapters().get(l.linear);
                if (cfg.switching() && l.slots.switchable()) {
                    double u = uniforms != null ? uniforms.getAsDouble() : rng.nextDouble(); // one draw per layer, as the official code
                    SwitchSlots.Swaps[] sw = l.slots.choose(stochasticRound(expected, u), rng);
                    swapA(l, ad, model, sw[0]);
                    swapB(l, ad, model, sw[1]);
                    for (int i = 0; i < sw[0].size(); i++) counterpart(surgery, l.linear + ".lora_b", 1, sw[0].slots()[i]);
                    for (int i = 0; i < sw[1].size(); i++) counterpart(surgery, l.linear + ".lora_a", 0, sw[1].slots()[i]);
                    if (cfg.freeze()) l.slots.freezeCounterparts(sw, cfg.freezeSteps());
                    swaps += sw[0].size() + sw[1].size();
                    if (trace != null) {
                        for (int i = 0; i < sw[0].size(); i++) trace.swap(new Swap(step, li, 'A', sw[0].slots()[i], sw[0].candidates()[i]));
                        for (int i = 0; i < sw[1].size(); i++) trace.swap(new Swap(step, li, 'B', sw[1].slots()[i], sw[1].candidates()[i]));
                    }
                }
                // a frozen vector's gradient is zeroed: with zeroed moments and no weight decay its update is exactly 0
                int[][] frozen = l.slots.tickFrozen();
                for (int i : frozen[0]) zeroGrad(ad.a(), 0, i);
                for (int i : frozen[1]) zeroGrad(ad.b(), 1, i);
                if (trace != null && l.slots.switchable()) trace.frozen(step, li, frozen[0], frozen[1]);
            }
        }
    }

    /**
     * Swaps A's rows {@code sw.slots} for the pool's candidates {@code sw.candidates}: W += s B[:, slots] (A[slots] - C)
     * keeps W + s B A unchanged; the old rows, with what they learned, go back into the pool at the indices they came from.
     * Every candidate is read before any row is written back, so the fold always matches what the rows become.
     */
    void swapA(Layer l, Adapter ad, Transformer model, SwitchSlots.Swaps sw) {
        if (sw.size() == 0) return;
        Tensor a = ad.a(), b = ad.b(), w = model.param(l.linear + ".weight");
        Tensor slots = Tensors.intIndex(sw.slots(), a.device());
        Tensor cand = l.poolA.index_select(0, Tensors.intIndex(sw.candidates(), l.poolA.device())).to(a.device(), torch.ScalarType.Float); // [n, in]
        Tensor old = a.index_select(0, slots); // [n, in]
        w.add_(torch.mm(b.index_select(1, slots), old.sub(cand)).mul_(new Scalar(ad.scale())));
        l.poolA.index_copy_(0, Tensors.intIndex(sw.previous(), l.poolA.device()), old.cpu());
        a.index_copy_(0, slots, cand);
    }

    /** The mirror image for B's columns: W += s (B[:, slots] - C^T) A[slots]. */
    void swapB(Layer l, Adapter ad, Transformer model, SwitchSlots.Swaps sw) {
        if (sw.size() == 0) return;
        Tensor a = ad.a(), b = ad.b(), w = model.param(l.linear + ".weight");
        Tensor slots = Tensors.intIndex(sw.slots(), b.device());
        Tensor cand = l.poolB.index_select(0, Tensors.intIndex(sw.candidates(), l.poolB.device())).to(b.device(), torch.ScalarType.Float); // [n, out]
        Tensor old = b.index_select(1, slots); // [out, n]
        w.add_(torch.mm(old.sub(cand.t()), a.index_select(0, slots)).mul_(new Scalar(ad.scale())));
        l.poolB.index_copy_(0, Tensors.intIndex(sw.previous(), l.poolB.device()), old.t().contiguous().cpu());
        b.index_copy_(1, slots, cand.t().contiguous());
    }

    /** The counterpart's AdamW state is stale (its gradient depends on the swapped vector): zero it. */
    private void counterpart(ModelSurgery surgery, String param, int axis, int index) {
        if (cfg.resetState()) surgery.resetOptimizerState(param, new Slice(axis, new int[]{index}), cfg.resetStep());
    }

    private static int stochasticRound(double x, double u) {
        int floor = (int) x;
        return floor + (u < x - floor ? 1 : 0);
    }

    private static void zeroGrad(Tensor p, int axis, int index) {
        Tensor g = p.grad();
        if (g.defined()) g.select(axis, index).zero_();
    }

    @Override
    public Map<String, Tensor> tensors() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Layer l : layers) {
            out.put(l.linear + ".pool_a", l.poolA);
            out.put(l.linear + ".pool_b", l.poolB);
        }
        return out;
    }

    @Override
    public JsonNode state() {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        for (Layer l : layers) {
            SwitchSlots sl = l.slots;
            ObjectNode o = n.putObject(l.linear);
            o.put("cursor_a", sl.cursorA).put("cursor_b", sl.cursorB);
            ints(o.putArray("held_a"), sl.heldA);
            ints(o.putArray("held_b"), sl.heldB);
            ints(o.putArray("frozen_a"), sl.frozenA);
            ints(o.putArray("frozen_b"), sl.frozenB);
        }
        return n;
    }

    @Override
    public void restore(JsonNode state) {
        for (Layer l : layers) {
            JsonNode o = state.path(l.linear);
            if (o.isMissingNode()) throw new IllegalStateException("checkpoint lacks SwitchLoRA's state of " + l.linear);
            SwitchSlots sl = l.slots;
            sl.cursorA = o.get("cursor_a").asInt();
            sl.cursorB = o.get("cursor_b").asInt();
            read(o.get("held_a"), sl.heldA);
            read(o.get("held_b"), sl.heldB);
            read(o.get("frozen_a"), sl.frozenA);
            read(o.get("frozen_b"), sl.frozenB);
        }
    }

    private static void ints(ArrayNode a, int[] v) {
        for (int x : v) a.add(x);
    }

    private static void read(JsonNode a, int[] v) {
        for (int i = 0; i < v.length; i++) v[i] = a.get(i).asInt();
    }
}
