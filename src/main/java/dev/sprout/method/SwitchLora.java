package dev.sprout.method;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sprout.config.MethodConfig;
import dev.sprout.model.Tensors;
import dev.sprout.model.Transformer;
import dev.sprout.model.Transformer.Adapter;
import dev.sprout.optim.Slice;
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
 * After each step's backward and clipping, a few adapter vectors per side are swapped with candidates: the old vector's
 * contribution is folded into the frozen W (so the layer's output is unchanged), the old vector goes back into the pool
 * and the candidate takes its place. The swapped vector's counterpart (B's column i for A's row i, and vice versa), whose
 * gradient depends on the swapped vector, has its AdamW moments and step counter zeroed and is frozen for N steps. Over
 * many swaps W accumulates a full-rank update. The swap rate decays: n_t = r / interval(t) vectors per side and layer,
 * interval(t) = interval0 / 0.3^((t+1) / (ratio T)), stochastically rounded.
 *
 * <p>Initialisation: candidates uniform with std_A = (sqrt(m) r / n^1.5)^(1/4) sqrt(gain) and std_B = (r / sqrt(m n))^(1/4)
 * sqrt(gain), gain = 1/sqrt(3), so s B A has nn.Linear's scale; the selected A rows are the pool's last r candidates, B's
 * the last r rotated by r/2 (the two cursors start half a rank apart); W starts as its init minus s B A, so the adapted
 * model computes the ordinary initial model.
 */
public final class SwitchLora implements TrainingMethod {
    /** Candidate pools and bookkeeping of one adapted linear. */
    static final class Layer {
        final String linear;
        final Tensor poolA; // [K, in]: candidates for A's rows
        final Tensor poolB; // [K, out]: candidates for B's columns
        final int[] heldA; // pool index each A row came from
        final int[] heldB;
        final int[] frozenA; // steps each A row stays frozen
        final int[] frozenB;
        int cursorA;
        int cursorB;

        Layer(String linear, Tensor poolA, Tensor poolB, int rank) {
            this.linear = linear;
            this.poolA = poolA;
            this.poolB = poolB;
            this.heldA = new int[rank];
            this.heldB = new int[rank];
            this.frozenA = new int[rank];
            this.frozenB = new int[rank];
        }
    }

    private static final double GAIN = 1 / Math.sqrt(3); // PyTorch's leaky-relu gain for a = sqrt(5)

    private final MethodConfig.Lora lora;
    private final MethodConfig.Switchlora cfg;
    private final SubnetPlan full;
    private final long seed;
    private final int totalSteps;
    private final List<Layer> layers = new ArrayList<>();
    private long swaps;

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
        for (String linear : model.blockLinears()) {
            Tensor w = model.param(linear + ".weight");
            long m = w.size(0), n = w.size(1);
            int k = (int) Math.min(m, n);
            double stdA = Math.pow(Math.sqrt(m) * r / Math.pow(n, 1.5), 0.25) * Math.sqrt(GAIN);
            double stdB = Math.pow(r / Math.sqrt((double) m * n), 0.25) * Math.sqrt(GAIN);
            Layer l = new Layer(linear, LowRank.uniform(k, n, Math.sqrt(3) * stdA, rng), LowRank.uniform(k, m, Math.sqrt(3) * stdB, rng), r);
            for (int i = 0; i < r; i++) {
                l.heldA[i] = k - r + i;
                l.heldB[i] = k - r + (i + r / 2) % r;
            }
            try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
                Tensor a = torch.index_select(l.poolA, 0, Tensors.intIndex(l.heldA, l.poolA.device())).clone(); // [r, in]
                Tensor b = torch.index_select(l.poolB, 0, Tensors.intIndex(l.heldB, l.poolB.device())).t().contiguous(); // [out, r]
                w.sub_(torch.mm(b, a).mul_(new Scalar(s)).to(w.device(), torch.ScalarType.Float));
                a.retainReference();
                b.retainReference();
                model.addAdapter(linear, a, b, s);
            }
            layers.add(l);
        }
    }

    @Override
    public SubnetPlan plan(long step) {
        return full;
    }

    /** Expected vectors swapped per side and layer at this step: r / interval(t). */
    public double expectedSwaps(long step) {
        double rate = Math.pow(0.3, (step + 1) / (cfg.ratio() * totalSteps));
        return lora.rank() * rate / cfg.interval0();
    }

    /** The adapted linears' pools and bookkeeping (tests read them). */
    List<Layer> layers() {
        return layers;
    }

    /** Vectors swapped so far in this process (both sides, all layers). */
    public long swaps() {
        return swaps;
    }

    @Override
    public void beforeUpdate(long step, ModelSurgery surgery) {
        Transformer model = surgery.model();
        int r = lora.rank();
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            if (cfg.switching()) {
                SplittableRandom rng = StepRandom.forStep(seed, step);
                double expected = expectedSwaps(step);
                for (Layer l : layers) {
                    Adapter ad = model.adapters().get(l.linear);
                    int nA = Math.min(r, stochasticRound(expected, rng)), nB = Math.min(r, stochasticRound(expected, rng));
                    for (int done = 0; done < nA && swapA(l, ad, model, surgery); done++) swaps++;
                    for (int done = 0; done < nB && swapB(l, ad, model, surgery); done++) swaps++;
                }
            }
            for (Layer l : layers) { // a frozen vector's gradient is zeroed: with zeroed moments its update is exactly 0
                Adapter ad = model.adapters().get(l.linear);
                for (int i = 0; i < r; i++) {
                    if (l.frozenA[i] > 0) {
                        zeroGrad(ad.a(), 0, i);
                        l.frozenA[i]--;
                    }
                    if (l.frozenB[i] > 0) {
                        zeroGrad(ad.b(), 1, i);
                        l.frozenB[i]--;
                    }
                }
            }
        }
    }

    /**
     * Swaps A's row at the cursor for the next candidate (unless it or its counterpart is frozen: the cap): W += s b_i
     * (a_i - c)^T keeps W + s B A unchanged. Returns whether it swapped.
     */
    boolean swapA(Layer l, Adapter ad, Transformer model, ModelSurgery surgery) {
        int i = l.cursorA;
        if (l.frozenA[i] > 0 || l.frozenB[i] > 0) return false;
        int c = nextCandidate(l.heldA, i, (int) l.poolA.size(0));
        Tensor a = ad.a(), b = ad.b(), w = model.param(l.linear + ".weight");
        Tensor ai = a.select(0, i).clone(), cand = l.poolA.select(0, c).to(a.device(), torch.ScalarType.Float);
        w.add_(torch.outer(b.select(1, i), ai.sub(cand)).mul_(new Scalar(ad.scale())));
        l.poolA.select(0, l.heldA[i]).copy_(ai.cpu()); // the old vector, with what it learned, goes back into the pool
        a.select(0, i).copy_(cand);
        l.heldA[i] = c;
        counterpart(surgery, l.linear + ".lora_b", 1, i, l.frozenB);
        l.cursorA = (i + 1) % l.heldA.length;
        return true;
    }

    /** The mirror image for B's column at the cursor: W += s (b_j - c) a_j^T. */
    boolean swapB(Layer l, Adapter ad, Transformer model, ModelSurgery surgery) {
        int j = l.cursorB;
        if (l.frozenB[j] > 0 || l.frozenA[j] > 0) return false;
        int c = nextCandidate(l.heldB, j, (int) l.poolB.size(0));
        Tensor a = ad.a(), b = ad.b(), w = model.param(l.linear + ".weight");
        Tensor bj = b.select(1, j).clone(), cand = l.poolB.select(0, c).to(b.device(), torch.ScalarType.Float);
        w.add_(torch.outer(bj.sub(cand), a.select(0, j)).mul_(new Scalar(ad.scale())));
        l.poolB.select(0, l.heldB[j]).copy_(bj.cpu());
        b.select(1, j).copy_(cand);
        l.heldB[j] = c;
        counterpart(surgery, l.linear + ".lora_a", 0, j, l.frozenA);
        l.cursorB = (j + 1) % l.heldB.length;
        return true;
    }

    /** The counterpart's AdamW state is stale (its gradient depends on the swapped vector): zero it and freeze it for N steps. */
    private void counterpart(ModelSurgery surgery, String param, int axis, int index, int[] frozen) {
        if (cfg.resetState()) surgery.resetOptimizerState(param, new Slice(axis, new int[]{index}));
        if (cfg.freeze()) frozen[index] = cfg.freezeSteps();
    }

    /** The pool index after the one the previous slot holds, skipping candidates that other slots hold: the pool is walked in order. */
    static int nextCandidate(int[] held, int slot, int poolSize) {
        int prev = held[(slot - 1 + held.length) % held.length];
        int c = (prev + 1) % poolSize;
        while (contains(held, c)) c = (c + 1) % poolSize;
        return c;
    }

    private static boolean contains(int[] a, int v) {
        for (int x : a) if (x == v) return true;
        return false;
    }

    private static int stochasticRound(double x, SplittableRandom rng) {
        int floor = (int) Math.floor(x);
        return floor + (rng.nextDouble() < x - floor ? 1 : 0);
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
            ObjectNode o = n.putObject(l.linear);
            o.put("cursor_a", l.cursorA).put("cursor_b", l.cursorB);
            ints(o.putArray("held_a"), l.heldA);
            ints(o.putArray("held_b"), l.heldB);
            ints(o.putArray("frozen_a"), l.frozenA);
            ints(o.putArray("frozen_b"), l.frozenB);
        }
        return n;
    }

    @Override
    public void restore(JsonNode state) {
        for (Layer l : layers) {
            JsonNode o = state.path(l.linear);
            if (o.isMissingNode()) throw new IllegalStateException("checkpoint lacks SwitchLoRA's state of " + l.linear);
            l.cursorA = o.get("cursor_a").asInt();
            l.cursorB = o.get("cursor_b").asInt();
            read(o.get("held_a"), l.heldA);
            read(o.get("held_b"), l.heldB);
            read(o.get("frozen_a"), l.frozenA);
            read(o.get("frozen_b"), l.frozenB);
        }
    }

    private static void ints(ArrayNode a, int[] v) {
        for (int x : v) a.add(x);
    }

    private static void read(JsonNode a, int[] v) {
        for (int i = 0; i < v.length; i++) v[i] = a.get(i).asInt();
    }
}
