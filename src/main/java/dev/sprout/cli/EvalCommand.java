package dev.sprout.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sprout.data.Split;
import dev.sprout.train.Backend;
import dev.sprout.train.RunEvaluation;
import dev.sprout.train.RunInfo;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `sprout eval`: the loss, perplexity and bits per byte of a run's model on any prepared data its tokenizer reads. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Loss, perplexity and bits per byte of a run's newest weights (adapters merged), or of an exported folder's, on prepared data",
                "with the same tokenizer: one JSON line, then a readable line. The windows are the fixed evaluation windows training uses,",
                "so a run on its own validation split gives its last logged val loss."})
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--run", required = true, paramLabel = "RUN_DIR", description = "A run folder, or a folder written by `sprout export`.")
    Path run;

    @Option(names = "--data", paramLabel = "DIR", description = "Prepared data to evaluate on (default: the run's own data).")
    Path data;

    @Option(names = "--split", paramLabel = "val|train", description = "Which split of the data (default: val).")
    String split = "val";

    @Option(names = "--tokens", paramLabel = "N", description = "Input tokens to cover, in whole windows (default: the run's train.eval_tokens).")
    Long tokens;

    @Override
    public Integer call() throws Exception {
        Split which = switch (split) {
            case "val" -> Split.VAL;
            case "train" -> Split.TRAIN;
            default -> throw new Sprout.UserException("--split: expected val or train, got '" + split + "'");
        };
        if (tokens != null && tokens < 1) throw new Sprout.UserException("--tokens: must be >= 1, got " + tokens);
        Backend.init(0);
        RunEvaluation e = RunEvaluation.of(run, data, which, tokens);
        Path dir = data != null ? data : RunInfo.read(run).dataDir();
        ObjectNode out = new ObjectMapper().createObjectNode();
        out.put("run", run.toString()).put("step", e.step()).put("data", dir.toString()).put("split", split).put("tokens", e.tokens()).put("bytes", e.bytes())
                .put("loss", e.loss()).put("perplexity", e.perplexity()).put("bits_per_byte", e.bitsPerByte());
        System.out.println(new ObjectMapper().writeValueAsString(out));
        System.out.printf(Locale.ROOT, "eval: %s (step %d) on %s (%s, %,d tokens%s): loss %.4f, perplexity %.3f, %.4f bits per byte%n", run, e.step(), dir, split,
                e.tokens(), e.wholeSplit() ? ", the whole split" : "", e.loss(), e.perplexity(), e.bitsPerByte());
        return 0;
    }
}
