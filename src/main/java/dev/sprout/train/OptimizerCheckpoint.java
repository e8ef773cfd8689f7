package dev.sprout.train;

import dev.sprout.dist.Collectives;
import dev.sprout.optim.AdamW;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The AdamW state in a checkpoint, per parameter: {@code adam.m.<name>}, {@code adam.v.<name>},
 * {@code adam.step.<name>}, and {@code adam.proj.<name>} for a GaLore matrix. Kept apart from the Trainer so the
 * round trip can be tested on an optimizer alone.
 */
public final class OptimizerCheckpoint {
    private OptimizerCheckpoint() {}

    /**
     * Adds the whole optimizer's state to {@code tensors} when it is sharded ({@code owners} not null): a collective call,
     * in which each parameter's owner broadcasts its moments, counters and GaLore basis, so that rank 0 writes a checkpoint
     * that does not depend on the world size. Tensors made here belong to the caller's PointerScope.
     */
    public static void addTo(Map<String, Tensor> tensors, AdamW optimizer, Map<String, Integer> owners, Collectives dist) {
        if (owners == null) {
            addTo(tensors, optimizer);
            return;
        }
        optimizer.states().forEach((k, st) -> {
            int owner = owners.get(k);
            Tensor m = st.owned ? st.m : torch.zeros(st.momentShape()), v = st.owned ? st.v : torch.zeros(st.momentShape());
            java.util.List<Tensor> floats = new java.util.ArrayList<>(java.util.List.of(m, v));
            Tensor basis = null;
            if (st.projection != null) {
                basis = st.owned ? st.projection.matrix() : torch.zeros(st.basisShape());
                floats.add(basis);
            }
            Tensor steps = torch.tensor(st.steps).to(torch.ScalarType.Double); // counters fit a double exactly; one dtype per collective
            dist.broadcast(floats, owner);
            dist.broadcast(steps, owner);
            tensors.put("adam.m." + k, m);
            tensors.put("adam.v." + k, v);
            tensors.put("adam.step." + k, steps.to(torch.ScalarType.Long));
            if (basis != null) tensors.put("adam.proj." + k, basis);
        });
    }

    /** Adds the optimizer's state tensors to {@code tensors}, the checkpoint being assembled. */
    public static void addTo(Map<String, Tensor> tensors, AdamW optimizer) {
        optimizer.states().forEach((k, st) -> {
            tensors.put("adam.m." + k, st.m);
            tensors.put("adam.v." + k, st.v);
            tensors.put("adam.step." + k, torch.tensor(st.steps));
            if (st.projection != null) tensors.put("adam.proj." + k, st.projection.matrix());
        });
    }

    /**
     * Copies the checkpoint's optimizer state into {@code optimizer}, whose parameters must already be projected as
     * they were when it was saved. Call under NoGradGuard.
     */
    public static void restore(Checkpoints.Loaded ck, AdamW optimizer) {
        for (var e : optimizer.states().entrySet()) {
            String name = e.getKey();
            AdamW.State st = e.getValue();
            if (!st.owned) continue; // another rank's shard: it restores its own from the same file
            if (st.projection != null) {
                // checked first: a checkpoint of plain AdamW would otherwise fail on the moments' shape, which hides the cause
                if (!ck.tensors().containsKey("adam.proj." + name)) {
                    throw new CheckpointException("checkpoint " + ck.file() + " lacks the GaLore projection of " + name + " (adam.proj." + name + ")");
                }
                Checkpoints.copyInto(ck, "adam.proj." + name, st.projection.matrix());
            }
            Checkpoints.copyInto(ck, "adam.m." + name, st.m);
            Checkpoints.copyInto(ck, "adam.v." + name, st.v);
            Tensor steps = ck.tensors().get("adam.step." + name);
            if (steps == null || steps.numel() != st.steps.length) throw new CheckpointException("checkpoint " + ck.file() + " lacks the step counters of " + name);
            steps.contiguous().data_ptr_long().get(st.steps);
        }
    }
}
