package dev.sprout.data;

import java.util.List;

/** Creates tokenizers by name (prepare time) or from a data folder's meta.json (train and sample time). */
public final class Tokenizers {
    public static final List<String> NAMES = List.of(CharTokenizer.NAME, ByteTokenizer.NAME, Gpt2Tokenizer.NAME);

    private Tokenizers() {}

    /**
     * @param corpus the text whose code points form the vocabulary of a "char" tokenizer; ignored by the others
     *               and may then be null
     */
    public static Tokenizer forName(String name, CharSequence corpus) {
        return switch (checkName(name)) {
            case CharTokenizer.NAME -> {
                if (corpus == null) throw new IllegalArgumentException("the char tokenizer needs the corpus text to build its vocabulary");
                yield CharTokenizer.fromText(corpus);
            }
            case ByteTokenizer.NAME -> new ByteTokenizer();
            default -> new Gpt2Tokenizer();
        };
    }

    /** Rebuilds the tokenizer a data folder was prepared with; its vocabulary size must match meta's. */
    public static Tokenizer fromMeta(DataMeta meta) {
        Tokenizer t = switch (checkName(meta.tokenizer())) {
            case CharTokenizer.NAME -> {
                if (meta.charVocab() == null) throw new DataException("meta.json: field 'char_vocab' missing for the char tokenizer");
                yield CharTokenizer.of(meta.charVocab());
            }
            case ByteTokenizer.NAME -> new ByteTokenizer();
            default -> new Gpt2Tokenizer();
        };
        if (t.vocabSize() != meta.vocabSize()) {
            throw new DataException("meta.json: field 'vocab_size': tokenizer " + t.name() + " has " + t.vocabSize()
                    + " tokens, field says " + meta.vocabSize());
        }
        return t;
    }

    /**
     * The end-of-text token ({@link Tokenizer#eotToken}) of the tokenizer of that name, or -1 when it has none; needs no
     * corpus.
     */
    public static int endOfText(String name) {
        // a char vocabulary never has one (CharTokenizer.eotToken), whatever its code points
        return checkName(name).equals(CharTokenizer.NAME) ? -1 : forName(name, null).eotToken();
    }

    /** Throws a DataException naming the bad value unless {@code name} is char, byte or gpt2. */
    public static String checkName(String name) {
        if (name == null || !NAMES.contains(name)) {
            throw new DataException("tokenizer: expected char | byte | gpt2, found '" + name + "'");
        }
        return name;
    }
}
