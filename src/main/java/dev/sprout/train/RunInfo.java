package dev.sprout.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sprout.config.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * run.json: where a run's data lives and which tokenizer reads it, so resume and sample need no flags; and the run it
 * started from (train --init-from), so a resume before the first checkpoint starts from the same weights.
 *
 * @param initFrom the source run folder, or null for a run from scratch
 */
public record RunInfo(Path dataDir, String dataFingerprint, String tokenizer, Path initFrom) {
    public RunInfo(Path dataDir, String dataFingerprint, String tokenizer) {
        this(dataDir, dataFingerprint, tokenizer, null);
    }

    public void write(Path runDir) throws IOException {
        var n = MetricsLog.JSON.createObjectNode();
        n.put("data_dir", dataDir.toString()).put("data_fingerprint", dataFingerprint).put("tokenizer", tokenizer);
        if (initFrom != null) n.put("init_from", initFrom.toString());
        AtomicFiles.write(runDir.resolve("run.json"), MetricsLog.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n");
    }

    public static RunInfo read(Path runDir) {
        Path f = runDir.resolve("run.json");
        try {
            JsonNode n = MetricsLog.JSON.readTree(f.toFile());
            return new RunInfo(Path.of(n.path("data_dir").asText()), n.path("data_fingerprint").asText(), n.path("tokenizer").asText(),
                    n.hasNonNull("init_from") ? Path.of(n.get("init_from").asText()) : null);
        } catch (IOException e) {
            throw new ConfigException(runDir + " is not a Sprout run folder (cannot read " + f.getFileName() + ": " + e.getMessage() + ")");
        }
    }
}
