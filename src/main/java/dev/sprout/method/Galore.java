package dev.sprout.method;

import dev.sprout.config.MethodConfig;
import dev.sprout.model.Transformer;
import dev.sprout.optim.AdamW;
import dev.sprout.subnet.SubnetPlan;
import java.util.ArrayList;
import java.util.List;

/**
 * GaLore (Zhao et al. 2024): the full-rank model trains, but the AdamW state of every block matrix lives in a rank-r
 * projection of its gradient, refreshed every {@code update_every} steps by an SVD (see {@link AdamW#project}).
 * Embeddings, norms, biases and the head keep plain AdamW state, as in GaLore's recipe.
 */
public final class Galore implements TrainingMethod {
    private final MethodConfig.Galore cfg;
    private final SubnetPlan full;
    private final List<String> matrices = new ArrayList<>();

    public Galore(MethodConfig.Galore cfg, int nLayer) {
        this.cfg = cfg;
        this.full = SubnetPlan.full(nLayer);
    }

    @Override
    public String name() {
        return "galore";
    }

    @Override
    public void setup(Transformer model) {
        LowRank.checkRank(model, cfg.rank(), "method.galore.rank");
        for (String linear : model.blockLinears()) matrices.add(linear + ".weight");
    }

    @Override
    public void setupOptimizer(AdamW optimizer) {
        for (String name : matrices) optimizer.project(name, cfg.rank(), cfg.updateEvery(), cfg.scale());
    }

    @Override
    public SubnetPlan plan(long step) {
        return full;
    }
}
