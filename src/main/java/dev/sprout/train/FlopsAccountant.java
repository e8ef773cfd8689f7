package dev.sprout.train;

import dev.sprout.model.ModelConfig;
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

    public FlopsAccountant(ModelConfig cfg, double bwdOverFwd) {
        this.cfg = cfg;
        this.bwdOverFwd = bwdOverFwd;
    }

    /** Forward FLOPs of the plan on {@code sequences} sequences of {@code t} tokens. */
    public Breakdown forward(SubnetPlan plan, long sequences, int t) {
        double c = cfg.dModel(), d = cfg.headDim(), tokens = (double) sequences * t;
        int perGroup = cfg.nHead() / cfg.kvHeads();
        double proj = 0, scores = 0, mlp = 0;
        for (LayerPlan lp : plan.layers()) {
            if (!lp.active()) continue;
            int h = lp.headCount(cfg.nHead());
            int g = cfg.kvHeads();
            if (lp.heads() != null) {
                TreeSet<Integer> groups = new TreeSet<>();
                for (int head : lp.heads()) groups.add(head / perGroup);
                g = groups.size();
            }
            int f = lp.neuronCount(cfg.ffDim());
            proj += 2 * c * (h * d) + 4 * c * (g * d) + 2 * (h * d) * c;
            scores += 4.0 * t * (h * d);
            mlp += (cfg.isLlama() ? 6 : 4) * c * f;
        }
        double head = 2 * c * cfg.vocabSize();
        return new Breakdown(proj * tokens, scores * tokens, mlp * tokens, head * tokens);
    }

    /** Forward plus backward FLOPs of one training pass of the plan. */
    public Breakdown train(SubnetPlan plan, long sequences, int t) {
        return forward(plan, sequences, t).times(1 + bwdOverFwd);
    }
}
