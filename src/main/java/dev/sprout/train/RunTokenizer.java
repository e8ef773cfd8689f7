package dev.sprout.train;

import dev.sprout.config.ConfigException;
import dev.sprout.data.ByteTokenizer;
import dev.sprout.data.Gpt2Tokenizer;
import dev.sprout.data.TokenDataset;
import dev.sprout.data.Tokenizer;
import dev.sprout.data.TokenizerFiles;
import dev.sprout.data.Tokenizers;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The tokenizer a run (or a Sprout export) was trained with. A run keeps its own ({@link TokenizerFiles}, written with its
 * first files), so sample, export and eval need no data folder and cannot decode with a vocabulary prepared later in the
 * same place. Runs from before runs kept theirs fall back to their data folder, but only while it is the data they
 * trained on.
 */
public final class RunTokenizer {
    private RunTokenizer() {}

    /** Keeps {@code t} in the run folder. */
    public static void write(Path run, Tokenizer t) throws java.io.IOException {
        TokenizerFiles.write(run, t);
    }

    public static Tokenizer read(Path run) {
        if (TokenizerFiles.present(run)) return TokenizerFiles.read(run);
        RunInfo info = RunInfo.read(run);
        // byte and gpt2 are the same everywhere: their name, which run.json keeps, is the whole vocabulary
        if (info.tokenizer().equals(ByteTokenizer.NAME) || info.tokenizer().equals(Gpt2Tokenizer.NAME)) return Tokenizers.forName(info.tokenizer(), null);
        String old = run + " keeps no tokenizer (it predates runs keeping theirs) and its data folder " + info.dataDir();
        if (!Files.isDirectory(info.dataDir())) throw new ConfigException(old + " is gone: the run's vocabulary is lost");
        if (!DataFingerprint.of(info.dataDir()).equals(info.dataFingerprint())) {
            throw new ConfigException(old + " was prepared again since the run started: the run's vocabulary is lost");
        }
        return TokenDataset.open(info.dataDir()).tokenizer();
    }
}
