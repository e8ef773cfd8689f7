package dev.sprout.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sprout.train.FlopsAccountant.Breakdown;
import java.io.IOException;
import java.nio.file.Path;

/** summary.json: what a run reached and what it cost (wallS: seconds of training steps; evalS: of evaluation). */
public record Summary(double finalValLoss, long steps, long tokens, double flops, double wallS, double evalS, long params, String method,
                      boolean complete, Breakdown flopsBreakdown, double flopsPaperModel, double tokensPerParam, MemoryUse memory) {
    public void write(Path runDir) throws IOException {
        ObjectNode n = MetricsLog.JSON.createObjectNode();
        // a run stopped before train.max_steps has no final loss yet: its latest evaluation is named for what it is
        String valKey = complete ? "final_val_loss" : "last_val_loss";
        if (Double.isNaN(finalValLoss)) n.putNull(valKey);
        else n.put(valKey, finalValLoss);
        n.put("steps", steps).put("tokens", tokens).put("flops", flops).put("wall_s", wallS).put("eval_s", evalS).put("params", params)
                .put("method", method).put("complete", complete).put("tokens_per_param", Math.round(tokensPerParam * 100) / 100.0);
        n.putObject("flops_by_module").put("attn_proj", flopsBreakdown.attnProj()).put("attn_scores", flopsBreakdown.attnScores())
                .put("mlp", flopsBreakdown.mlp()).put("head", flopsBreakdown.head());
        // blocks only, backward = forward, backward only where weights train: arXiv 2411.18700's cost model
        n.put("flops_paper_model", flopsPaperModel);
        n.put("trainable_params", memory.trainableParams()).put("trainable_params_blocks", memory.trainableParamsBlocks())
                .put("optimizer_state_bytes", memory.optimizerStateBytes()).put("optimizer_state_bytes_blocks", memory.optimizerStateBytesBlocks())
                .put("gradient_bytes", memory.gradientBytes()).put("gradient_bytes_blocks", memory.gradientBytesBlocks())
                .put("peak_rss_bytes", memory.peakRssBytes());
        AtomicFiles.write(runDir.resolve("summary.json"), MetricsLog.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n");
    }
}
