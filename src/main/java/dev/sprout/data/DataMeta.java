package dev.sprout.data;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Contents of a data folder's meta.json: tokenizer, token counts and the shard list with checksums.
 *
 * @param charVocab code points of the char tokenizer's vocabulary, in token-id order; null for other tokenizers
 * @param tokenizerSha256 SHA-256 of the hf tokenizer's tokenizer.json, whose copy the folder keeps; null for other tokenizers
 * @param eosToken  the hf token written between documents; null when they are separated by "\n\n" (and for other tokenizers)
 * @param chars     the text read, in UTF-16 units; in bytes for the byte tokenizer (its text files are read as raw bytes)
 * @param maxChars  the prepare-time character cap (bytes for the byte tokenizer), or null when the inputs were read in full
 * @param created   ISO-8601 instant of the prepare run
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DataMeta(
        @JsonProperty("format_version") int formatVersion,
        @JsonProperty("tokenizer") String tokenizer,
        @JsonProperty("vocab_size") int vocabSize,
        @JsonProperty("dtype") String dtype,
        @JsonProperty("char_vocab") List<Integer> charVocab,
        @JsonProperty("tokenizer_sha256") String tokenizerSha256,
        @JsonProperty("eos_token") String eosToken,
        @JsonProperty("train_tokens") long trainTokens,
        @JsonProperty("val_tokens") long valTokens,
        @JsonProperty("val_fraction") double valFraction,
        @JsonProperty("documents") long documents,
        @JsonProperty("chars") long chars,
        @JsonProperty("max_chars") Long maxChars,
        @JsonProperty("shards") List<Shard> shards,
        @JsonProperty("sources") List<Source> sources,
        @JsonProperty("created") String created) {

    public static final int FORMAT_VERSION = 1;
    public static final String FILE_NAME = "meta.json";
    public static final String UINT16 = "uint16";
    public static final String UINT32 = "uint32";

    // Shard names are joined onto the data folder: no separators, no "..".
    private static final Pattern SHARD_NAME = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]*\\.bin");
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** A folder of a tokenizer without a file of its own (char, byte, gpt2). */
    public DataMeta(int formatVersion, String tokenizer, int vocabSize, String dtype, List<Integer> charVocab, long trainTokens, long valTokens,
                    double valFraction, long documents, long chars, Long maxChars, List<Shard> shards, List<Source> sources, String created) {
        this(formatVersion, tokenizer, vocabSize, dtype, charVocab, null, null, trainTokens, valTokens, valFraction, documents, chars, maxChars,
                shards, sources, created);
    }

    /** The folder's tokenizer, as run folders and checkpoints describe it. */
    public TokenizerSpec tokenizerSpec() {
        return new TokenizerSpec(tokenizer, vocabSize, charVocab, tokenizerSha256, eosToken);
    }

    /** One token file: little-endian {@code dtype} values, {@code tokens} of them. */
    public record Shard(@JsonProperty("split") String split, @JsonProperty("file") String file,
                       @JsonProperty("tokens") long tokens, @JsonProperty("sha256") String sha256) {}

    /** One input file of the prepare run, with its size on disk (compressed size for .gz). */
    public record Source(@JsonProperty("path") String path, @JsonProperty("bytes") long bytes) {}

    /** uint16 when every id fits, which halves the disk and page-cache footprint of the usual vocabularies. */
    public static String dtypeFor(int vocabSize) {
        return vocabSize <= 65536 ? UINT16 : UINT32;
    }

    public int bytesPerToken() {
        return UINT16.equals(dtype) ? 2 : 4;
    }

    public List<Shard> shards(Split split) {
        return shards.stream().filter(s -> s.split().equals(split.key())).toList();
    }

    public long tokens(Split split) {
        return split == Split.TRAIN ? trainTokens : valTokens;
    }

    public void write(Path file) {
        try {
            JSON.writeValue(file.toFile(), this);
        } catch (IOException e) {
            throw new DataException(file + ": cannot write (" + e.getMessage() + ")", e);
        }
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads and checks meta.json; every failure is a DataException naming the file and, where known, the field. */
    public static DataMeta read(Path file) {
        DataMeta meta;
        try {
            meta = JSON.readValue(Files.readAllBytes(file), DataMeta.class);
        } catch (NoSuchFileException e) {
            throw new DataException(file + ": not found; is " + file.getParent() + " a folder written by `sprout prepare`?");
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr();
            throw new DataException(file + ": corrupt meta.json" + where + " (" + e.getOriginalMessage() + ")", e);
        } catch (IOException e) {
            throw new DataException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (meta == null) throw new DataException(file + ": corrupt meta.json (empty)");
        meta.validate(file);
        return meta;
    }

    private void validate(Path file) {
        if (formatVersion != FORMAT_VERSION) {
            fail(file, "format_version", "expected " + FORMAT_VERSION + ", found " + formatVersion);
        }
        tokenizerSpec().check(file.toString());
        if (!dtypeFor(vocabSize).equals(dtype)) {
            fail(file, "dtype", "expected " + dtypeFor(vocabSize) + " for vocab_size " + vocabSize + ", found " + dtype);
        }
        if (shards == null) fail(file, "shards", "missing");
        long[] sums = new long[Split.values().length];
        for (Shard s : shards) {
            if (s == null || s.file() == null || !SHARD_NAME.matcher(s.file()).matches()) {
                fail(file, "shards", "bad file name " + (s == null ? null : s.file()));
            }
            Split split;
            try {
                split = Split.ofKey(s.split());
            } catch (IllegalArgumentException e) {
                throw new DataException(file + ": field 'shards': " + s.file() + " has split '" + s.split() + "', expected train | val");
            }
            if (s.tokens() < 0) fail(file, "shards", s.file() + " has " + s.tokens() + " tokens");
            sums[split.ordinal()] += s.tokens();
        }
        if (sums[Split.TRAIN.ordinal()] != trainTokens) {
            fail(file, "train_tokens", "shards hold " + sums[Split.TRAIN.ordinal()] + " tokens, field says " + trainTokens);
        }
        if (sums[Split.VAL.ordinal()] != valTokens) {
            fail(file, "val_tokens", "shards hold " + sums[Split.VAL.ordinal()] + " tokens, field says " + valTokens);
        }
    }

    private static void fail(Path file, String field, String what) {
        throw new DataException(file + ": field '" + field + "': " + what);
    }
}
