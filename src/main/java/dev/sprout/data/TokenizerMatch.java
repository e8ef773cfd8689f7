package dev.sprout.data;

/**
 * Whether two tokenizers map text to the same ids: the same kind, the same vocabulary, every id the same piece of text (for hf:
 * the same tokenizer.json, by its SHA-256).
 */
public final class TokenizerMatch {
    private TokenizerMatch() {}

    /** Null when {@code a} and {@code b} agree on every id, else what differs first. */
    public static String difference(Tokenizer a, Tokenizer b) {
        if (!a.name().equals(b.name())) return "tokenizer " + a.name() + " against " + b.name();
        if (a.vocabSize() != b.vocabSize()) return a.name() + " vocabularies of " + a.vocabSize() + " and " + b.vocabSize() + " tokens";
        if (a.name().equals(HfTokenizer.NAME) && !a.spec().sha256().equals(b.spec().sha256())) { // same kind, another file
            return "hf tokenizer files that differ (SHA-256 " + a.spec().sha256().substring(0, 12) + "... against " + b.spec().sha256().substring(0, 12) + "...)";
        }
        if (a.name().equals("char")) { // a char vocabulary is the corpus's own set of characters
            for (int id = 0; id < a.vocabSize(); id++) {
                if (!a.decode(id).equals(b.decode(id))) return "char vocabularies that differ at id " + id + " ('" + a.decode(id) + "' against '" + b.decode(id) + "')";
            }
        }
        return null;
    }

    /** Bytes of text that {@code ids} stand for (the byte tokenizer: one per token; others: the UTF-8 of their decoded text). */
    public static long bytes(Tokenizer t, int[] ids) {
        if (t.name().equals("byte")) return ids.length;
        return t.decode(ids).getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    }
}
