package dev.sprout.train;

import dev.sprout.config.ModelConfig;
import dev.sprout.subnet.SubnetPlan;
import dev.sprout.subnet.SubnetPlan.LayerPlan;
import java.util.TreeSet;

/**
 * Counts the matmul FLOPs (2 per multiply-add) of exactly what a plan executes, per module.
 *
 * <p>Per token, for a block running h of H query heads (reading g key/value heads) and f of F MLP neurons:
 * attention projections 2C(hD) + 4C(gD) + 2(hD)C; attention scores and weighted sum 4T(hD) (the full square,
 * as PaLM and nanoGPT count it: causal masking is not subtracted); MLP 4Cf (GELU) or 6Cf (SwiGLU); LM head 2CV.
 * Norms, activations, softmax and the embedding lookup are not counted. Training charges backward as
 * {@code bwdOverFwd} times forward (2 = the usual 6N rule).
 */
public final class FlopsAccountant {
    /** FLOPs per module; all counts are doubles because a long run overflows nothing but reads better. */
    public record Breakdown(double attnProj, double attnScores, double mlp, double head) {
        public static final Breakdown ZERO = new Breakdown(0, 0, 0, 0);

        public double total() {
            return attnProj + attnScores + mlp + head;
        }

        public Breakdown plus(Breakdown o) {
            return new Breakdown(attnProj + o.attnProj, attnScores + o.attnScores, mlp + o.mlp, head + o.head);
        }

        public Breakdown times(double k) {
            return new Breakdown(attnProj * k, attnScores * k, mlp * k, head * k);
        }
    }

    private final ModelConfig cfg;
    private final double bwdOverFwd;
    private final int adapterRank;

    public FlopsAccountant(ModelConfig cfg, double bwdOverFwd) {
        this(cfg, bwdOverFwd, 0);
    }

    /**
     * @param adapterRank rank of the low-rank adapters on every block linear (0: none). An adapted linear [out, in] adds
     *                    2r(in + out) forward FLOPs per token, and its frozen weight computes no weight gradient.
     */
    public FlopsAccountant(ModelConfig cfg, double bwdOverFwd, int adapterRank) {
        if (adapterRank < 0) throw new IllegalArgumentException("adapterRank must be >= 0, got " + adapterRank);
        this.cfg = cfg;
        this.bwdOverFwd = bwdOverFwd;
        this.adapterRank = adapterRank;
    }

    /** Forward FLOPs of the plan on {@code sequences} sequences of {@code t} tokens. */
    public Breakdown forward(SubnetPlan plan, long sequences, int t) {
        Breakdown blocks = Breakdown.ZERO;
        for (int l = 0; l < plan.layers().size(); l++) {
            blocks = blocks.plus(blockForward(plan.layers().get(l), sequences, t)).plus(adapterForward(plan.layers().get(l), sequences, t));
        }
        return blocks.plus(headForward(sequences, t));
    }

    /**
     * Forward plus backward FLOPs of one training pass of the plan. Backward splits into activation gradients and
     * weight gradients, {@code bwdOverFwd / 2} times forward each for every matmul with a weight; the attention
     * scores have no weights, so their whole backward is activation gradients. A block the plan updates pays both;
     * a frozen block above the gradient floor passes activation gradients down but computes no weight gradients;
     * a block below the floor runs forward only. The head is always trained.
     */
    public Breakdown train(SubnetPlan plan, long sequences, int t) {
        Breakdown total = headForward(sequences, t).times(1 + bwdOverFwd);
        for (int l = 0; l < plan.layers().size(); l++) {
            Breakdown fwd = blockForward(plan.layers().get(l), sequences, t);
            Breakdown adapters = adapterForward(plan.layers().get(l), sequences, t);
            total = total.plus(adapters.times(1 + bwdOverFwd)); // adapters run only on trained full blocks
            if (plan.updates(l) && adapterRank > 0) {
                double half = 1 + bwdOverFwd / 2; // frozen dense weights: activation gradients only
                total = total.plus(new Breakdown(fwd.attnProj() * half, fwd.attnScores() * (1 + bwdOverFwd), fwd.mlp() * half, 0));
            } else if (plan.updates(l)) {
                total = total.plus(fwd.times(1 + bwdOverFwd));
            } else if (l >= plan.gradientFloor()) {
                double half = 1 + bwdOverFwd / 2;
                total = total.plus(new Breakdown(fwd.attnProj() * half, fwd.attnScores() * (1 + bwdOverFwd), fwd.mlp() * half, 0));
            } else {
                total = total.plus(fwd);
            }
        }
        return total;
    }

    /**
     * The incremental-training paper's cost of one step (arXiv 2411.18700, section 4.2): blocks only, backward
     * charged equal to forward, and backward only in blocks whose weights train (it assumes gradients stop at the
     * lowest trainable block). Printed beside {@link #train} so the paper's ratios can be checked against ours.
     */
    public double paperModel(SubnetPlan plan, long sequences, int t) {
        double sum = 0;
        for (int l = 0; l < plan.layers().size(); l++) {
            double fwd = blockForward(plan.layers().get(l), sequences, t).total();
            sum += plan.updates(l) ? 2 * fwd : fwd;
        }
        return sum;
    }

    private Breakdown blockForward(LayerPlan lp, long sequences, int t) {
        if (!lp.active()) return Breakdown.ZERO;
        double c = cfg.dModel(), d = cfg.headDim(), tokens = (double) sequences * t;
        int perGroup = cfg.nHead() / cfg.kvHeads();
        int h = lp.headCount(cfg.nHead());
        int g = cfg.kvHeads();
        if (lp.heads() != null) {
            TreeSet<Integer> groups = new TreeSet<>();
            for (int head : lp.heads()) groups.add(head / perGroup);
            g = groups.size();
        }
        int f = lp.neuronCount(cfg.ffDim());
        double proj = 2 * c * (h * d) + 4 * c * (g * d) + 2 * (h * d) * c;
        double scores = 4.0 * t * (h * d);
        double mlp = (cfg.isLlama() ? 6 : 4) * c * f;
        return new Breakdown(proj * tokens, scores * tokens, mlp * tokens, 0);
    }

    /** The adapters' thin matmuls of a running block: x A^T then (.) B^T, 2r(in + out) per token for each linear. */
    private Breakdown adapterForward(LayerPlan lp, long sequences, int t) {
        if (adapterRank == 0 || !lp.active()) return Breakdown.ZERO;
        double c = cfg.dModel(), kv = (double) cfg.kvHeads() * cfg.headDim(), f = cfg.ffDim(), r = adapterRank, tokens = (double) sequences * t;
        double attn = 2 * r * ((c + c) * 2 + (c + kv) * 2); // q and o: C x C; k and v: C -> G*D
        double mlp = 2 * r * (c + f) * (cfg.isLlama() ? 3 : 2);
        return new Breakdown(attn * tokens, 0, mlp * tokens, 0);
    }

    private Breakdown headForward(long sequences, int t) {
        return new Breakdown(0, 0, 0, 2.0 * cfg.dModel() * cfg.vocabSize() * sequences * t);
    }
}
