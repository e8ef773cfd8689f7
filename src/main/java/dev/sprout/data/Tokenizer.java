package dev.sprout.data;

/** Maps text to token ids and back. Implementations are immutable and safe to share between threads. */
public interface Tokenizer {
    /** "char", "byte", "gpt2" or "hf": the value stored in meta.json. */
    String name();

    /** What identifies this tokenizer (kind, vocabulary size, and for char and hf what tells two of the kind apart). */
    TokenizerSpec spec();

    int vocabSize();

    int[] encode(String text);

    String decode(int[] ids);

    default String decode(int id) {
        return decode(new int[] {id});
    }

    /** The end-of-text token id, or -1 when the tokenizer has none. */
    int eotToken();

    /**
     * Tokens written between two documents: the EOT token when there is one, otherwise the text "\n\n" (a blank
     * line), which char and byte tokenizers can always express.
     */
    default int[] documentSeparator() {
        int eot = eotToken();
        return eot >= 0 ? new int[] {eot} : encode("\n\n");
    }
}
