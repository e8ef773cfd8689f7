package dev.sprout.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Writes a run folder by hand (metrics.jsonl, summary.json, config.yaml) so the report is tested without training. */
final class SyntheticRun {
    static final ObjectMapper JSON = new ObjectMapper();
    private final List<ObjectNode> rows = new ArrayList<>();
    private String method = "baseline";
    private long seed = 1337;
    private long maxSteps = -1;
    private boolean summary = true;
    private double headFlops = 0;
    private Double flopsPaperModel;
    private Long optimizerStateBytesBlocks;
    private Boolean complete;

    static SyntheticRun of(String method) {
        SyntheticRun r = new SyntheticRun();
        r.method = method;
        return r;
    }

    /** The run's method.name (config.yaml and summary.json). */
    SyntheticRun method(String name) {
        method = name;
        return this;
    }

    SyntheticRun seed(long s) {
        seed = s;
        return this;
    }

    SyntheticRun maxSteps(long n) {
        maxSteps = n;
        return this;
    }

    SyntheticRun noSummary() {
        summary = false;
        return this;
    }

    SyntheticRun complete(boolean c) {
        complete = c;
        return this;
    }

    /** A step row without evaluation. */
    SyntheticRun step(long step, double flops, double wallS, String stage) {
        ObjectNode n = JSON.createObjectNode();
        n.put("step", step).put("tokens", step * 256).put("flops", flops).put("wall_s", wallS).put("loss", 3.0).put("lr", 1e-3);
        if (stage != null) n.put("stage", stage);
        rows.add(n);
        return this;
    }

    /** A step row with val_loss. */
    SyntheticRun eval(long step, double flops, double wallS, double valLoss) {
        return eval(step, flops, wallS, valLoss, null);
    }

    /** The LM head's share of the total FLOPs in summary.json's flops_by_module; the rest is split over the blocks' modules. */
    SyntheticRun headFlops(double flops) {
        headFlops = flops;
        return this;
    }

    /** summary.json's memory keys (block bytes; whole-model bytes twice that); left out unless set, as in older runs. */
    SyntheticRun optimizerStateBytesBlocks(long bytes) {
        optimizerStateBytesBlocks = bytes;
        return this;
    }

    /** summary.json's flops_paper_model; left out unless set, as in runs written before the key existed. */
    SyntheticRun flopsPaperModel(double flops) {
        flopsPaperModel = flops;
        return this;
    }

    SyntheticRun eval(long step, double flops, double wallS, double valLoss, String stage) {
        step(step, flops, wallS, stage);
        rows.get(rows.size() - 1).put("val_loss", valLoss);
        return this;
    }

    /** Writes the folder; summary totals come from the last row, final_val_loss from the last val_loss. */
    /** runs[config][seed round], as {@link CompareReport} takes them, from one row of runs per config. */
    static List<List<RunResult>> table(RunResult[]... rows) {
        List<List<RunResult>> t = new ArrayList<>();
        for (RunResult[] r : rows) t.add(new ArrayList<>(Arrays.asList(r)));
        return t;
    }

    Path write(Path dir) throws IOException {
        Files.createDirectories(dir);
        StringBuilder sb = new StringBuilder();
        for (ObjectNode r : rows) sb.append(JSON.writeValueAsString(r)).append('\n');
        Files.writeString(dir.resolve("metrics.jsonl"), sb.toString());
        ObjectNode last = rows.get(rows.size() - 1);
        long steps = last.get("step").asLong();
        long max = maxSteps > 0 ? maxSteps : steps;
        Files.writeString(dir.resolve("config.yaml"), "seed: " + seed + "\nmodel:\n  family: gpt2\ntrain:\n  max_steps: " + max + "\nmethod:\n  name: " + method + "\n");
        if (summary) {
            Double finalVal = null;
            for (ObjectNode r : rows) if (r.has("val_loss")) finalVal = r.get("val_loss").asDouble();
            ObjectNode s = JSON.createObjectNode();
            if (finalVal == null) s.putNull("final_val_loss");
            else s.put("final_val_loss", finalVal);
            s.put("steps", steps).put("tokens", last.get("tokens").asLong()).put("flops", last.get("flops").asDouble())
                    .put("wall_s", last.get("wall_s").asDouble()).put("params", 1000).put("method", method)
                    .put("complete", complete != null ? complete : steps >= max).put("tokens_per_param", last.get("tokens").asLong() / 1000.0);
            double blocks = last.get("flops").asDouble() - headFlops;
            s.putObject("flops_by_module").put("attn_proj", 0.25 * blocks).put("attn_scores", 0.25 * blocks).put("mlp", 0.5 * blocks).put("head", headFlops);
            if (flopsPaperModel != null) s.put("flops_paper_model", flopsPaperModel);
            if (optimizerStateBytesBlocks != null) {
                s.put("trainable_params", 1000).put("trainable_params_blocks", optimizerStateBytesBlocks / 8).put("optimizer_state_bytes", 2 * optimizerStateBytesBlocks)
                        .put("optimizer_state_bytes_blocks", optimizerStateBytesBlocks).put("gradient_bytes_blocks", optimizerStateBytesBlocks / 2)
                        .put("peak_rss_bytes", 300_000_000L);
            }
            Files.writeString(dir.resolve("summary.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(s));
        }
        return dir;
    }
}
