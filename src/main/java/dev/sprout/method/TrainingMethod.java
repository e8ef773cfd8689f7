package dev.sprout.method;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.sprout.subnet.SubnetPlan;

/**
 * A training method decides what each optimizer step executes. The trainer asks it for one plan per step
 * (shared by every micro-batch) and never asks which method runs.
 */
public interface TrainingMethod {
    /** The name recorded in summary.json. */
    String name();

    /** The plan for the optimizer step with 0-based index {@code step}. Must be a pure function of (state, step). */
    SubnetPlan plan(long step);

    /**
     * Growth events that take effect before step {@code step} runs (copying blocks, resetting optimizer state). Called
     * once per step, before {@link #plan}; must depend on the step alone, so a resumed run replays exactly the events
     * the interrupted run would have made.
     */
    default void beforeStep(long step, ModelSurgery surgery) {}

    /** A label for the schedule stage of this step (metrics rows carry it), or null for single-stage methods. */
    default String stage(long step) {
        return null;
    }

    /** State to keep in checkpoints (RNG streams, counters). */
    default JsonNode state() {
        return JsonNodeFactory.instance.objectNode();
    }

    default void restore(JsonNode state) {}
}
