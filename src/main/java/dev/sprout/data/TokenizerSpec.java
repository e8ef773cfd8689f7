package dev.sprout.data;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What identifies a tokenizer, small enough for a run folder's tokenizer_spec.json and every checkpoint's state: its kind,
 * its vocabulary size and what makes two tokenizers of a kind differ (a char vocabulary's code points; an hf tokenizer's
 * file hash and the token chosen to separate documents). Together with the hf file itself it rebuilds the tokenizer
 * ({@link Tokenizers#fromSpec}). Its fields are named as in a data folder's meta.json, which holds the same description.
 *
 * @param charVocab the char tokenizer's code points in id order; null for the others
 * @param sha256    SHA-256 of the hf tokenizer's tokenizer.json; null for the others
 * @param eosToken  the hf token written between documents, or null when documents are separated by "\n\n" (and for the others)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TokenizerSpec(
        @JsonProperty("tokenizer") String name,
        @JsonProperty("vocab_size") int vocabSize,
        @JsonProperty("char_vocab") List<Integer> charVocab,
        @JsonProperty("tokenizer_sha256") String sha256,
        @JsonProperty("eos_token") String eosToken) {

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public static TokenizerSpec fixed(String name, int vocabSize) {
        return new TokenizerSpec(name, vocabSize, null, null, null);
    }

    public ObjectNode toJson() {
        return JSON.valueToTree(this);
    }

    public String toJsonText() {
        try {
            return JSON.writeValueAsString(this) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Parses and checks a description; failures are DataExceptions naming {@code where} and the field. */
    public static TokenizerSpec parse(String json, String where) {
        TokenizerSpec s;
        try {
            s = JSON.readValue(json, TokenizerSpec.class);
        } catch (JsonProcessingException e) {
            throw new DataException(where + ": corrupt tokenizer description (" + HfTokenizerJson.oneLine(e.getOriginalMessage()) + ")", e);
        }
        if (s == null) throw new DataException(where + ": corrupt tokenizer description (empty)");
        s.check(where);
        return s;
    }

    /** Throws a DataException naming {@code where} and the first field that does not describe a tokenizer. */
    public void check(String where) {
        if (name == null || !Tokenizers.KINDS.contains(name)) {
            fail(where, "tokenizer", "expected " + String.join(" | ", Tokenizers.KINDS) + ", found " + (name == null ? "nothing" : "'" + name + "'"));
        }
        if (vocabSize <= 0) fail(where, "vocab_size", "expected > 0, found " + vocabSize);
        if (name.equals(CharTokenizer.NAME) && (charVocab == null || charVocab.size() != vocabSize)) {
            fail(where, "char_vocab", "expected " + vocabSize + " code points, found " + (charVocab == null ? "nothing" : charVocab.size()));
        }
        if (name.equals(HfTokenizer.NAME) && (sha256 == null || !SHA256.matcher(sha256).matches())) {
            fail(where, "tokenizer_sha256", "expected the SHA-256 of tokenizer.json (64 hex digits), found " + (sha256 == null ? "nothing" : "'" + sha256 + "'"));
        }
    }

    private static void fail(String where, String field, String what) {
        throw new DataException(where + ": field '" + field + "': " + what);
    }
}
