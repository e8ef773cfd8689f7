package dev.sprout.subnet;

import java.util.List;

/**
 * A stagewise schedule: stage i covers optimizer steps [start_i, start_{i+1}). {@link #lookup(long)} gives the
 * stage of a step; the last stage runs to the end.
 */
public record Stages<S>(List<Long> starts, List<S> stages) {
    public Stages {
        if (starts.size() != stages.size() || starts.isEmpty()) throw new IllegalArgumentException("one start per stage");
        starts = List.copyOf(starts);
        stages = List.copyOf(stages);
    }

    public int index(long step) {
        int i = 0;
        while (i + 1 < starts.size() && step >= starts.get(i + 1)) i++;
        return i;
    }

    public S lookup(long step) {
        return stages.get(index(step));
    }

    /** Stage starts for fractions of a run of {@code total} steps (the remainder is the last stage). */
    public static long[] boundaries(int total, double... fractions) {
        long[] starts = new long[fractions.length + 1];
        double acc = 0;
        for (int i = 0; i < fractions.length; i++) {
            acc += fractions[i];
            starts[i + 1] = Math.round(acc * total);
        }
        return starts;
    }
}
