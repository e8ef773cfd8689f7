package dev.sprout.data;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * Options of {@code sprout prepare}.
 *
 * @param inputs      files (taken as given) and folders (walked for *.txt, *.md, *.jsonl, *.json, optionally .gz)
 * @param tokenizer   char | byte | gpt2 | hf:PATH (PATH a Hugging Face tokenizer.json)
 * @param output      the data folder to write: absent or empty, or with {@code force} an earlier Sprout data folder to replace
 * @param valFraction share of the token stream, taken from its end, that becomes the validation split; in [0, 1)
 * @param maxChars    stop reading after this many characters (UTF-16 units); {@link #UNLIMITED} reads everything
 * @param shardTokens maximum tokens per shard file
 * @param progress    receives one-line progress messages; may be null
 * @param force       replace an earlier Sprout data folder at {@code output} (runs trained on it keep their own tokenizer)
 */
public record PrepareOptions(List<Path> inputs, String tokenizer, Path output, double valFraction, long maxChars,
                             long shardTokens, Consumer<String> progress, boolean force) {
    public static final double DEFAULT_VAL_FRACTION = 0.1;
    public static final long UNLIMITED = Long.MAX_VALUE;
    public static final long DEFAULT_SHARD_TOKENS = 100_000_000L;
    /** Keeps a uint32 shard under 2 GiB, the most one memory mapping can cover. */
    public static final long MAX_SHARD_TOKENS = 500_000_000L;

    public PrepareOptions {
        inputs = inputs == null ? List.of() : List.copyOf(inputs);
    }

    public static PrepareOptions of(List<Path> inputs, String tokenizer, Path output) {
        return new PrepareOptions(inputs, tokenizer, output, DEFAULT_VAL_FRACTION, UNLIMITED, DEFAULT_SHARD_TOKENS, null, false);
    }

    public PrepareOptions withValFraction(double v) {
        return new PrepareOptions(inputs, tokenizer, output, v, maxChars, shardTokens, progress, force);
    }

    public PrepareOptions withMaxChars(long v) {
        return new PrepareOptions(inputs, tokenizer, output, valFraction, v, shardTokens, progress, force);
    }

    public PrepareOptions withShardTokens(long v) {
        return new PrepareOptions(inputs, tokenizer, output, valFraction, maxChars, v, progress, force);
    }

    public PrepareOptions withProgress(Consumer<String> v) {
        return new PrepareOptions(inputs, tokenizer, output, valFraction, maxChars, shardTokens, v, force);
    }

    public PrepareOptions withForce(boolean v) {
        return new PrepareOptions(inputs, tokenizer, output, valFraction, maxChars, shardTokens, progress, v);
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
    }
}
