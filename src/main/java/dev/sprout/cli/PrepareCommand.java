package dev.sprout.cli;

import dev.sprout.data.Prepare;
import dev.sprout.data.PrepareOptions;
import dev.sprout.data.PrepareResult;
import dev.sprout.data.Split;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `sprout prepare`: text files, folders and JSONL into token shards plus meta.json. */
@Command(name = "prepare", mixinStandardHelpOptions = true,
        description = "Tokenize text files, folders of them and JSONL (a `text` field) into token shards and meta.json, with a train/val split.")
final class PrepareCommand implements Callable<Integer> {
    @Option(names = "--input", required = true, arity = "1..*", paramLabel = "PATH", description = "Files or folders (*.txt, *.md, *.jsonl, *.json, optionally .gz).")
    List<Path> inputs;

    @Option(names = "--tokenizer", required = true, paramLabel = "NAME",
            description = "char | byte | gpt2 | hf:PATH (PATH a Hugging Face tokenizer.json, e.g. a Llama model's; the data folder keeps a copy).")
    String tokenizer;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Data folder to write: new or empty.")
    Path out;

    @Option(names = "--force", description = "Replace the data folder an earlier prepare wrote at --out (runs trained on it keep their own tokenizer).")
    boolean force;

    @Option(names = "--val-fraction", defaultValue = "0.1", paramLabel = "F", description = "Share of tokens, from the end, held out for validation (default: ${DEFAULT-VALUE}).")
    double valFraction;

    @Option(names = "--max-chars", paramLabel = "N", description = "Read at most N characters of text.")
    Long maxChars;

    @Override
    public Integer call() {
        PrepareOptions o = PrepareOptions.of(inputs, tokenizer, out).withValFraction(valFraction).withProgress(System.out::println).withForce(force);
        if (maxChars != null) o = o.withMaxChars(maxChars);
        PrepareResult r = Prepare.run(o);
        System.out.printf(Locale.ROOT, "prepared %s: %s tokenizer, vocabulary %d, %,d train and %,d val tokens%s in %.1f s%n",
                r.dir(), r.meta().tokenizer(), r.meta().vocabSize(), r.meta().tokens(Split.TRAIN), r.meta().tokens(Split.VAL),
                r.capped() ? " (capped by --max-chars)" : "", r.seconds());
        return 0;
    }
}
