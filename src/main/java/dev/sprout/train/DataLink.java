package dev.sprout.train;

import dev.sprout.config.ConfigException;
import dev.sprout.config.SproutConfig;
import dev.sprout.data.TokenDataset;
import java.nio.file.Path;

/** Opens a run's data folder and checks it against the configuration: tokenizer and vocabulary. */
public final class DataLink {
    private DataLink() {}

    /** A new run's data folder (the one given, or the built-in corpus), opened and checked, and its config with the model's vocabulary resolved from it. */
    public record NewRunData(Path dir, TokenDataset data, SproutConfig config) {}

    /** @param dir the data folder asked for; null for the built-in corpus (prepared on first use, progress to console) */
    public static NewRunData forNewRun(SproutConfig asked, Path dir, java.io.PrintStream console) throws java.io.IOException {
        Path resolved = dir != null ? dir : BuiltinCorpus.ensure(asked, console);
        TokenDataset ds = open(resolved, asked);
        return new NewRunData(resolved, ds, asked.withModel(asked.model().resolve(ds.vocabSize())));
    }

    public static TokenDataset open(Path dir, SproutConfig cfg) {
        TokenDataset ds = TokenDataset.open(dir);
        String want = cfg.data().tokenizer(), have = ds.tokenizer().name();
        if (!want.equals("auto") && !want.equals(have)) {
            String prepare = want.equals("hf") ? "--tokenizer hf:PATH/tokenizer.json" : "--tokenizer " + want;
            throw new ConfigException("data.tokenizer: the config asks for '" + want + "' but " + dir + " was prepared with '" + have
                    + "'; prepare the text with " + prepare + ", or --set data.tokenizer=" + have + " (or auto) to train on this folder");
        }
        int vocab = cfg.model().vocabSize();
        if (vocab != 0 && vocab < ds.vocabSize()) {
            throw new ConfigException("model.vocab_size: " + vocab + " is smaller than the vocabulary of " + dir + " (" + ds.vocabSize() + " tokens)");
        }
        return ds;
    }
}
