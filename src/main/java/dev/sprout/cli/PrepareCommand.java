package dev.sprout.cli;

import dev.sprout.data.ByteTokenizer;
import dev.sprout.data.DataMeta;
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
            description = "char | byte | gpt2 | hf:PATH (PATH a Hugging Face tokenizer.json, e.g. a Llama model's; the data folder keeps a copy). "
                    + "byte takes a text file's raw bytes in any encoding (JSON text as UTF-8); the others read text as UTF-8.")
    String tokenizer;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Data folder to write: new or empty.")
    Path out;

    @Option(names = "--force", description = "Replace the data folder an earlier prepare wrote at --out (runs trained on it keep their own tokenizer).")
    boolean force;

    @Option(names = "--val-fraction", defaultValue = "0.1", paramLabel = "F", description = "Share of tokens, from the end, held out for validation (default: ${DEFAULT-VALUE}).")
    double valFraction;

    @Option(names = "--max-chars", paramLabel = "N", description = "Read at most N characters of text; N bytes with --tokenizer byte (default: all).")
    Long maxChars;

    @Option(names = "--separator", paramLabel = "REGEX",
            description = "Split text files into documents before each line REGEX matches (a Java regex searched in the line without its newline, "
                    + "e.g. '^ = [^=].* = $' for wikitext's article headings, '^$' for blank lines): the matching line starts the next document, "
                    + "and documents are separated as files are. Text files only (JSONL and JSON already hold one document per line or element); "
                    + "a line longer than 1,048,576 characters (bytes with --tokenizer byte) never matches (default: none, one document per file).")
    String separator;

    @Option(names = "--skip-bad-files",
            description = "Skip an input file that cannot be read or is malformed (invalid UTF-8 for the tokenizers other than byte, bad JSON, broken gzip) "
                    + "with a warning on stderr instead of stopping; each file is read in full before it is used, so a skipped file adds nothing "
                    + "(default: off, such a file stops prepare).")
    boolean skipBadFiles;

    @Override
    public Integer call() {
        PrepareOptions o = PrepareOptions.of(inputs, tokenizer, out).withValFraction(valFraction).withProgress(System.out::println).withForce(force)
                .withSeparator(separator).withSkipBadFiles(skipBadFiles).withWarnings(System.err::println);
        if (maxChars != null) o = o.withMaxChars(maxChars);
        PrepareResult r = Prepare.run(o);
        long train = r.meta().tokens(Split.TRAIN), val = r.meta().tokens(Split.VAL);
        System.out.printf(Locale.ROOT, "prepared %s: %s tokenizer, vocabulary %d, %,d train and %,d val tokens%s%s%s in %.1f s%n",
                r.dir(), r.meta().tokenizer(), r.meta().vocabSize(), train, val, bytesRead(r.meta(), train + val),
                r.capped() ? " (capped by --max-chars)" : "",
                r.skipped().isEmpty() ? "" : String.format(Locale.ROOT, ", %d bad %s skipped", r.skipped().size(), r.skipped().size() == 1 ? "file" : "files"),
                r.seconds());
        return 0;
    }

    /** For the byte tokenizer: the bytes read, and the rest of the tokens, the blank lines between documents. */
    private static String bytesRead(DataMeta meta, long tokens) {
        if (!meta.tokenizer().equals(ByteTokenizer.NAME)) return "";
        long blank = tokens - meta.chars();
        return String.format(Locale.ROOT, " (%,d bytes read%s)", meta.chars(),
                blank == 0 ? "" : String.format(Locale.ROOT, " + %,d of blank lines between the %,d documents", blank, meta.documents()));
    }
}
