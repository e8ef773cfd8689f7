package dev.sprout.data;

import java.nio.file.Path;
import java.util.List;

/**
 * Outcome of a prepare run.
 *
 * @param capped  true when max_chars stopped reading before the inputs ended
 * @param skipped input files skipped as unreadable or malformed (only with skip_bad_files), in input order
 * @param seconds wall time of the run
 */
public record PrepareResult(Path dir, DataMeta meta, boolean capped, List<Path> skipped, double seconds) {
    public PrepareResult {
        skipped = List.copyOf(skipped);
    }
}
