package dev.sprout.data;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Options of {@code sprout prepare}.
 *
 * @param inputs       files (taken as given) and folders (walked for *.txt, *.md, *.jsonl, *.json, optionally .gz)
 * @param tokenizer    char | byte | gpt2 | hf:PATH (PATH a Hugging Face tokenizer.json)
 * @param output       the data folder to write: absent or empty, or with {@code force} an earlier Sprout data folder to replace
 * @param valFraction  share of the token stream, taken from its end, that becomes the validation split; in [0, 1)
 * @param maxChars     stop reading after this many characters (UTF-16 units; bytes for the byte tokenizer);
 *                     {@link #UNLIMITED} reads everything
 * @param shardTokens  maximum tokens per shard file
 * @param progress     receives one-line progress messages; may be null
 * @param force        replace an earlier Sprout data folder at {@code output} (runs trained on it keep their own tokenizer)
 * @param separator    a regular expression, or null: text files are split into documents before each line it finds a
 *                     match in (the line without its newline), the matching line starting the next document
 * @param skipBadFiles skip an unreadable or malformed input file with a warning instead of failing; a skipped file
 *                     adds no tokens
 * @param warnings     receives the one-line warnings of skipped files; null prints them on stderr
 */
public record PrepareOptions(List<Path> inputs, String tokenizer, Path output, double valFraction, long maxChars,
                             long shardTokens, Consumer<String> progress, boolean force, String separator,
                             boolean skipBadFiles, Consumer<String> warnings) {
    public static final double DEFAULT_VAL_FRACTION = 0.1;
    public static final long UNLIMITED = Long.MAX_VALUE;
    public static final long DEFAULT_SHARD_TOKENS = 100_000_000L;
    /** Keeps a uint32 shard under 2 GiB, the most one memory mapping can cover. */
    public static final long MAX_SHARD_TOKENS = 500_000_000L;

    public PrepareOptions {
        inputs = inputs == null ? List.of() : List.copyOf(inputs);
    }

    public static PrepareOptions of(List<Path> inputs, String tokenizer, Path output) {
        return new PrepareOptions(inputs, tokenizer, output, DEFAULT_VAL_FRACTION, UNLIMITED, DEFAULT_SHARD_TOKENS, null, false,
                null, false, null);
    }

    public PrepareOptions withValFraction(double v) {
        return new PrepareOptions(inputs, tokenizer, output, v, maxChars, shardTokens, progress, force, separator, skipBadFiles, warnings);
    }

    public PrepareOptions withMaxChars(long v) {
        return new PrepareOptions(inputs, tokenizer, output, valFraction, v, shardTokens, progress, force, separator, skipBadFiles, warnings);
    }

    public PrepareOptions withShardTokens(long v) {
        return new PrepareOptions(inputs, tokenizer, output, valFraction, maxChars, v, progress, force, separator, skipBadFiles, warnings);
    }

    public PrepareOptions withProgress(Consumer<String> v) {
        return new PrepareOptions(inputs, tokenizer, output, valFraction, maxChars, shardTokens, v, force, separator, skipBadFiles, warnings);
    }

    public PrepareOptions withForce(boolean v) {
        return new PrepareOptions(inputs, tokenizer, output, valFraction, maxChars, shardTokens, progress, v, separator, skipBadFiles, warnings);
    }

    public PrepareOptions withSeparator(String regex) {
        return new PrepareOptions(inputs, tokenizer, output, valFraction, maxChars, shardTokens, progress, force, regex, skipBadFiles, warnings);
    }

    public PrepareOptions withSkipBadFiles(boolean v) {
        return new PrepareOptions(inputs, tokenizer, output, valFraction, maxChars, shardTokens, progress, force, separator, v, warnings);
    }

    public PrepareOptions withWarnings(Consumer<String> v) {
        return new PrepareOptions(inputs, tokenizer, output, valFraction, maxChars, shardTokens, progress, force, separator, skipBadFiles, v);
    }

    /** Throws a DataException naming the first bad option. */
    public void validate() {
        if (inputs.isEmpty()) throw new DataException("inputs: no input files or folders given");
        Tokenizers.checkName(tokenizer);
        if (output == null) throw new DataException("output: no output folder given");
        if (!(valFraction >= 0 && valFraction < 1)) {
            throw new DataException("val_fraction: expected a number in [0, 1), found " + valFraction);
        }
        if (maxChars <= 0) throw new DataException("max_chars: expected > 0, found " + maxChars);
        if (shardTokens <= 0 || shardTokens > MAX_SHARD_TOKENS) {
            throw new DataException("shard_tokens: expected 1.." + MAX_SHARD_TOKENS + ", found " + shardTokens);
        }
        separatorPattern();
    }

    /** The compiled separator, or null when there is none. */
    Pattern separatorPattern() {
        if (separator == null) return null;
        if (separator.isEmpty()) throw new DataException("separator: empty; give a regular expression such as '^$' (blank lines)");
        try {
            return Pattern.compile(separator);
        } catch (PatternSyntaxException e) {
            // getMessage() spans three lines (pattern and caret); one line is enough.
            throw new DataException("separator: '" + separator + "' is not a valid regular expression (" + e.getDescription()
                    + (e.getIndex() >= 0 ? " near index " + e.getIndex() : "") + ")");
        }
    }
}
