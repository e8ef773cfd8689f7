package dev.sprout.train;

import dev.sprout.config.ConfigException;
import dev.sprout.config.SproutConfig;
import dev.sprout.data.EvalWindows;
import dev.sprout.data.Split;
import dev.sprout.data.TokenDataset;
import dev.sprout.data.Tokenizer;
import dev.sprout.data.TokenizerMatch;
import dev.sprout.data.HfTokenizer;
import dev.sprout.dist.Collectives;
import dev.sprout.model.Transformer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A finished (or exported) run's newest weights, adapters merged, evaluated on any prepared data its own tokenizer reads:
 * `sprout eval`, and compare's held-out column. The windows are the fixed evaluation windows training uses.
 *
 * @param step   the checkpoint's step
 * @param tokens input tokens evaluated (whole windows)
 * @param bytes  bytes of text the evaluated targets stand for
 * @param loss   mean next-token cross-entropy, nats per token
 * @param wholeSplit the split held fewer tokens than asked, so all of it was used
 */
public record RunEvaluation(long step, long tokens, long bytes, double loss, boolean wholeSplit) {
    public double perplexity() {
        return Math.exp(loss);
    }

    public double bitsPerByte() {
        return loss * tokens / (bytes * Math.log(2));
    }

    /**
     * Evaluates {@code run} on {@code data} (null: the run's own data, which must still be what it trained on). The run's
     * own tokenizer ({@link RunTokenizer}) must read {@code data}: a folder prepared with another fails with one line.
     *
     * @param tokens input tokens to cover, or null for the run's train.eval_tokens
     */
    public static RunEvaluation of(Path run, Path data, Split split, Long tokens) {
        if (!Files.isRegularFile(run.resolve("config.yaml"))) throw new ConfigException(run + " is not a run folder (no config.yaml)");
        Tokenizer own = RunTokenizer.read(run);
        Path dir = data;
        if (dir == null) {
            RunInfo info = RunInfo.read(run);
            dir = info.dataDir();
            if (!Files.isDirectory(dir)) throw new ConfigException(run + ": the run's data folder " + dir + " is gone; pass --data to evaluate on other data its tokenizer reads");
            if (!DataFingerprint.of(dir).equals(info.dataFingerprint())) {
                throw new ConfigException(run + ": the run's data folder " + dir + " was prepared again since the run started; pass --data " + dir + " to evaluate on it as it is now");
            }
        }
        TokenDataset ds = TokenDataset.open(dir);
        String diff = TokenizerMatch.difference(own, ds.tokenizer());
        if (diff != null) {
            throw new ConfigException(dir + " was prepared with another tokenizer than the run's (" + diff + "); prepare the text with "
                    + (own.name().equals("char") ? "the run's own vocabulary (char vocabularies are per corpus: use --tokenizer byte or gpt2 for runs meant to read other text)"
                    : own.name().equals(HfTokenizer.NAME) ? "--tokenizer " + HfTokenizer.PREFIX + run.resolve(HfTokenizer.FILE) + " (the run's copy of its tokenizer.json)"
                    : "--tokenizer " + own.name()));
        }
        RunWeights w = RunWeights.read(run);
        SproutConfig cfg = w.config();
        Transformer model = new Transformer(cfg.model(), Backend.device(cfg.device()), cfg.seed());
        try {
            w.copyInto(model, "--run");
            EvalWindows windows = new EvalWindows(ds, cfg.model().context(), tokens != null ? tokens : cfg.train().evalTokens(), split);
            double loss = Evaluation.meanLoss(model, windows, cfg.train().batchSize(), cfg.train().precision(), Collectives.single());
            return new RunEvaluation(w.step(), windows.tokens(), targetBytes(ds, windows), loss, windows.shortOfRequest());
        } finally {
            model.release();
        }
    }

    /** Bytes of text the windows' targets stand for. */
    private static long targetBytes(TokenDataset ds, EvalWindows windows) {
        int t = windows.context();
        long[] x = new long[t], y = new long[t];
        int[] ids = new int[t];
        long bytes = 0;
        for (int k = 0; k < windows.windows(); k++) {
            windows.batch(k, 1, x, y);
            for (int i = 0; i < t; i++) ids[i] = (int) y[i];
            bytes += TokenizerMatch.bytes(ds.tokenizer(), ids);
        }
        return bytes;
    }
}
