package dev.sprout.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.sprout.config.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the compare report reads from one run folder: summary.json (totals), metrics.jsonl (the curve) and
 * config.yaml (method name, seed, train.max_steps). A run killed before it wrote summary.json still reads: its totals
 * come from the last metrics row and it counts as incomplete.
 *
 * @param config     the config's name in the comparison (its file's base name)
 * @param seed       the seed round's seed, or null when no --seeds were given
 * @param configSeed the seed in the run's config.yaml (null if unknown)
 * @param blockFlops the FLOPs of the transformer blocks alone (attention and MLP, without the LM head), from
 *                   summary.json's flops_by_module; NaN when the run has no summary yet
 * @param flopsPaperModel summary.json's flops_paper_model: block FLOPs under the incremental-training paper's
 *                   convention (backward = forward, blocks only, backward only through trainable blocks), so a growth
 *                   method's cost can be set beside the paper's own numbers; NaN when absent (runs older than the key)
 * @param memory     summary.json's memory accounting, or null (no summary, or one older than the keys)
 */
public record RunResult(String config, Long seed, Path dir, String method, Long configSeed, double finalValLoss, long steps,
                        long maxSteps, long tokens, double flops, double blockFlops, double flopsPaperModel, double wallS, long params, double tokensPerParam,
                        boolean complete, RunCurve curve, Memory memory) {
    /** What the training state held in memory (summary.json; *Blocks: the block matrices alone). */
    public record Memory(long trainableParams, long trainableParamsBlocks, long optimizerStateBytes, long optimizerStateBytesBlocks,
                         long gradientBytesBlocks, long peakRssBytes) {
        static Memory of(JsonNode summary) {
            if (!summary.has("optimizer_state_bytes_blocks")) return null;
            return new Memory(summary.path("trainable_params").asLong(), summary.path("trainable_params_blocks").asLong(),
                    summary.path("optimizer_state_bytes").asLong(), summary.path("optimizer_state_bytes_blocks").asLong(),
                    summary.path("gradient_bytes_blocks").asLong(), summary.path("peak_rss_bytes").asLong(-1));
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    /** True when the folder holds a run the report can read (a metrics.jsonl). */
    public static boolean exists(Path dir) {
        return Files.isRegularFile(dir.resolve("metrics.jsonl"));
    }

    /** Reads a run folder; a folder without metrics.jsonl, or with unreadable files, is a one-line ConfigException. */
    public static RunResult read(String config, Long seed, Path dir) {
        Path metricsFile = dir.resolve("metrics.jsonl");
        if (!Files.isRegularFile(metricsFile)) throw new ConfigException(dir + " holds no run (no metrics.jsonl)");
        List<JsonNode> rows = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(metricsFile, StandardCharsets.UTF_8)) {
                if (line.isBlank()) continue;
                try {
                    rows.add(JSON.readTree(line));
                } catch (IOException e) {
                    // a row cut short by a kill; the trainer drops it on resume too
                }
            }
        } catch (IOException e) {
            throw new ConfigException("cannot read " + metricsFile + ": " + e.getMessage());
        }
        RunCurve curve = RunCurve.fromRows(rows);

        JsonNode cfg = null;
        Path cfgFile = dir.resolve("config.yaml");
        if (Files.isRegularFile(cfgFile)) {
            try {
                cfg = YAML.readTree(cfgFile.toFile());
            } catch (IOException e) {
                throw new ConfigException("cannot read " + cfgFile + ": " + e.getMessage());
            }
        }
        JsonNode summary = null;
        Path summaryFile = dir.resolve("summary.json");
        if (Files.isRegularFile(summaryFile)) {
            try {
                summary = JSON.readTree(summaryFile.toFile());
            } catch (IOException e) {
                throw new ConfigException("cannot read " + summaryFile + ": " + e.getMessage());
            }
        }
        String method = cfg != null && cfg.path("method").has("name") ? cfg.path("method").get("name").asText()
                : summary != null ? summary.path("method").asText("?") : "?";
        Long configSeed = cfg != null && cfg.has("seed") ? cfg.get("seed").asLong() : null;
        long maxSteps = cfg != null ? cfg.path("train").path("max_steps").asLong(0) : 0;

        JsonNode lastRow = null;
        for (JsonNode r : rows) if (lastRow == null || r.path("step").asLong() >= lastRow.path("step").asLong()) lastRow = r;
        RunCurve.Point lastEval = curve.last();
        // summary.json is written when a training session ends; rows a later, killed session appended are newer
        boolean summaryCurrent = summary != null && (lastRow == null || summary.path("steps").asLong() >= lastRow.path("step").asLong());
        if (summaryCurrent) {
            JsonNode fv = summary.has("final_val_loss") ? summary.get("final_val_loss") : summary.get("last_val_loss"); // last_: an incomplete run
            double finalVal = fv == null || fv.isNull() ? (lastEval == null ? Double.NaN : lastEval.valLoss()) : fv.asDouble();
            long params = summary.path("params").asLong(0);
            return new RunResult(config, seed, dir, method, configSeed, finalVal, summary.path("steps").asLong(), maxSteps,
                    summary.path("tokens").asLong(), summary.path("flops").asDouble(), blockFlops(summary), flopsPaperModel(summary), summary.path("wall_s").asDouble(), params,
                    summary.path("tokens_per_param").asDouble(params > 0 ? summary.path("tokens").asDouble() / params : Double.NaN),
                    summary.path("complete").asBoolean(false), curve, Memory.of(summary));
        }
        long params = summary != null ? summary.path("params").asLong(0) : 0;
        long steps = lastRow == null ? 0 : lastRow.path("step").asLong();
        long tokens = lastRow == null ? 0 : lastRow.path("tokens").asLong();
        return new RunResult(config, seed, dir, method, configSeed, lastEval == null ? Double.NaN : lastEval.valLoss(), steps, maxSteps, tokens,
                lastRow == null ? 0 : lastRow.path("flops").asDouble(), Double.NaN, Double.NaN, lastRow == null ? 0 : lastRow.path("wall_s").asDouble(), params,
                params > 0 ? (double) tokens / params : Double.NaN, false, curve, null);
    }

    /** attn_proj + attn_scores + mlp of summary.json's flops_by_module, NaN when it has none. */
    private static double blockFlops(JsonNode summary) {
        JsonNode m = summary.path("flops_by_module");
        if (!m.has("attn_proj") || !m.has("attn_scores") || !m.has("mlp")) return Double.NaN;
        return m.get("attn_proj").asDouble() + m.get("attn_scores").asDouble() + m.get("mlp").asDouble();
    }

    /** summary.json's flops_paper_model, NaN when it has none. */
    private static double flopsPaperModel(JsonNode summary) {
        JsonNode f = summary.get("flops_paper_model");
        return f != null && f.isNumber() ? f.asDouble() : Double.NaN;
    }

    /** Reads summary.json's "complete" flag, false when the file is absent or unreadable. */
    public static boolean isComplete(Path dir) {
        Path f = dir.resolve("summary.json");
        if (!Files.isRegularFile(f)) return false;
        try {
            return JSON.readTree(f.toFile()).path("complete").asBoolean(false);
        } catch (IOException e) {
            return false;
        }
    }

    /** summary.json's "steps", or -1 when the file is absent or unreadable. */
    public static long summarySteps(Path dir) {
        Path f = dir.resolve("summary.json");
        if (!Files.isRegularFile(f)) return -1;
        try {
            return JSON.readTree(f.toFile()).path("steps").asLong(-1);
        } catch (IOException e) {
            return -1;
        }
    }
}
