package dev.sprout.method;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.sprout.model.Transformer;
import dev.sprout.optim.AdamW;
import dev.sprout.subnet.SubnetPlan;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * A training method decides what each optimizer step executes. The trainer asks it for one plan per step
 * (shared by every micro-batch) and never asks which method runs.
 */
public interface TrainingMethod {
    /** The name recorded in summary.json. */
    String name();

    /**
     * Changes to a freshly built model before training (low-rank adapters); runs before the optimizer is built and before
     * a checkpoint is restored, so a resumed run has the same tensors to restore into.
     */
    default void setup(Transformer model) {}

    /** Changes to the optimizer once it is built (GaLore's projected state); runs before a checkpoint is restored. */
    default void setupOptimizer(AdamW optimizer) {}

    /** The plan for the optimizer step with 0-based index {@code step}. Must be a pure function of (state, step). */
    SubnetPlan plan(long step);

    /**
     * Growth events that take effect before step {@code step} runs (copying blocks, resetting optimizer state). Called
     * once per step, before {@link #plan}; must depend on the step alone, so a resumed run replays exactly the events
     * the interrupted run would have made.
     */
    default void beforeStep(long step, ModelSurgery surgery) {}

    /**
     * Runs after step {@code step}'s gradients are computed and clipped, before AdamW applies them (SwitchLoRA's swaps and
     * frozen vectors). Must depend on (state, step) alone.
     */
    default void beforeUpdate(long step, ModelSurgery surgery) {}

    /** A multiplier on the schedule's learning rate at this step (ReLoRA's re-warmup after each restart). */
    default double lrFactor(long step) {
        return 1.0;
    }

    /** Remarks for the console when a run starts, after {@link #setup} (e.g. layers the method leaves alone, and why). */
    default java.util.List<String> notes() {
        return java.util.List.of();
    }

    /** A label for the schedule stage of this step (metrics rows carry it), or null for single-stage methods. */
    default String stage(long step) {
        return null;
    }

    /** State to keep in checkpoints (RNG streams, counters). */
    default JsonNode state() {
        return JsonNodeFactory.instance.objectNode();
    }

    default void restore(JsonNode state) {}

    /** Tensors to keep in checkpoints (candidate pools), by name; restored in place by copying into the same tensors. */
    default Map<String, Tensor> tensors() {
        return Map.of();
    }
}
