package dev.sprout.train;

import dev.sprout.method.ModelSurgery;
import dev.sprout.model.Transformer;
import dev.sprout.optim.AdamW;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/** Growth events on a model and its AdamW, in place: parameters stay the same tensors, so the optimizer keeps tracking them. */
public final class BlockSurgery implements ModelSurgery {
    private final Transformer model;
    private final AdamW optimizer;

    public BlockSurgery(Transformer model, AdamW optimizer) {
        this.model = model;
        this.optimizer = optimizer;
    }

    @Override
    public void copyBlock(int src, int dst, boolean copyOptimizerState) {
        checkBlock(src);
        checkBlock(dst);
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            for (String name : model.blockParameters(src)) {
                String target = Transformer.sameInBlock(name, src, dst);
                model.param(target).copy_(model.param(name));
                if (!optimizer.states().containsKey(target)) continue; // a frozen weight has no optimizer state
                if (copyOptimizerState) optimizer.copyState(name, target);
                else optimizer.resetState(target, null, true);
            }
        }
    }

    @Override
    public void zeroResidualOutputs(int l) {
        checkBlock(l);
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            for (String name : model.blockParameters(l)) {
                if (name.contains(".attn.o.") || name.contains(".mlp.down.")) model.param(name).zero_();
            }
        }
    }

    @Override
    public void resetOptimizerState(int l) {
        checkBlock(l);
        for (String name : model.blockParameters(l)) {
            if (optimizer.states().containsKey(name)) optimizer.resetState(name, null, true);
        }
    }

    @Override
    public void resetOptimizerState() {
        for (String name : optimizer.states().keySet()) optimizer.resetState(name, null, true);
    }

    @Override
    public void resetOptimizerState(String param, dev.sprout.tensor.Slice slice, boolean counters) {
        if (!optimizer.states().containsKey(param)) throw new IllegalArgumentException("no optimizer state for " + param);
        optimizer.resetState(param, slice, counters);
    }

    @Override
    public Transformer model() {
        return model;
    }

    private void checkBlock(int l) {
        if (l < 0 || l >= model.config().nLayer()) throw new IllegalArgumentException("block " + l + " outside [0, " + model.config().nLayer() + ")");
    }
}
