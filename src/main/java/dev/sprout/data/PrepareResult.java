package dev.sprout.data;

import java.nio.file.Path;

/**
 * Outcome of a prepare run.
 *
 * @param capped  true when max_chars stopped reading before the inputs ended
 * @param seconds wall time of the run
 */
public record PrepareResult(Path dir, DataMeta meta, boolean capped, double seconds) {}
