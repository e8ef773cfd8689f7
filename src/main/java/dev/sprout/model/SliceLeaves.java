package dev.sprout.model;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Gathered copies of the rows or columns of parameters that a plan runs only in part (sampled heads and MLP
 * neurons), each an autograd leaf of its own. With them the backward pass computes exactly the kept slices'
 * gradients, [k, in] instead of a full-size gradient that is zero outside the slice (which index_select's backward
 * would allocate, zero-fill and scatter into, and which clipping and the optimizer would then read again), and the
 * masked AdamW applies those slice gradients directly.
 *
 * <p>One instance serves one optimizer step: every micro-batch of a step runs the same plan, so the first forward
 * gathers and later ones reuse the leaves, whose gradients accumulate. The leaves belong to the PointerScope that
 * was innermost when this instance was made (the step's), not to the micro-batch's scope that gathered them.
 */
public final class SliceLeaves {
    private final Map<String, Tensor> leaves = new LinkedHashMap<>();
    private final PointerScope owner = PointerScope.getInnerScope();

    /** The leaf holding {@code param}'s slice {@code index} along {@code axis}, gathered on first use. */
    Tensor leaf(String name, Tensor param, int axis, Tensor index) {
        Tensor t = leaves.get(name);
        if (t == null) {
            try (NoGradGuard ng = new NoGradGuard()) {
                t = torch.index_select(param, axis, index);
            }
            t.set_requires_grad(true);
            if (owner != null) owner.attach(t); // outlives the micro-batch that gathered it
            leaves.put(name, t);
        } else if (t.size(axis) != index.size(0)) {
            throw new IllegalStateException(name + ": a step's micro-batches ran different slices (" + t.size(axis) + " vs " + index.size(0) + ")");
        }
        return t;
    }

    /** The slices' gradients by parameter name (slices that received none are left out). */
    public Map<String, Tensor> grads() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        leaves.forEach((name, t) -> {
            Tensor g = t.grad();
            if (g.defined()) out.put(name, g);
        });
        return Collections.unmodifiableMap(out);
    }
}
