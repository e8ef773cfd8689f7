package dev.sprout.data;

import java.nio.file.Path;
import java.util.List;

/**
 * Creates tokenizers by name (prepare time: char | byte | gpt2 | hf:PATH) or from a description (a data folder's
 * meta.json, a run's tokenizer_spec.json) plus, for hf, the copy of the tokenizer.json kept beside it.
 */
public final class Tokenizers {
    /** The kinds a description may name. */
    public static final List<String> KINDS = List.of(CharTokenizer.NAME, ByteTokenizer.NAME, Gpt2Tokenizer.NAME, HfTokenizer.NAME);
    /** What prepare's --tokenizer accepts, for messages and help. */
    public static final String CHOICES = "char | byte | gpt2 | hf:PATH";

    private Tokenizers() {}

    /**
     * @param corpus the text whose code points form the vocabulary of a "char" tokenizer; ignored by the others
     *               and may then be null
     */
    public static Tokenizer forName(String name, CharSequence corpus) {
        checkName(name);
        if (name.startsWith(HfTokenizer.PREFIX)) return HfTokenizer.fromFile(Path.of(name.substring(HfTokenizer.PREFIX.length())));
        return switch (name) {
            case CharTokenizer.NAME -> {
                if (corpus == null) throw new IllegalArgumentException("the char tokenizer needs the corpus text to build its vocabulary");
                yield CharTokenizer.fromText(corpus);
            }
            case ByteTokenizer.NAME -> new ByteTokenizer();
            default -> new Gpt2Tokenizer();
        };
    }

    /** Rebuilds the tokenizer a data folder was prepared with; its vocabulary size must match meta's. */
    public static Tokenizer fromMeta(DataMeta meta, Path dataDir) {
        return fromSpec(meta.tokenizerSpec(), dataDir.resolve(HfTokenizer.FILE), dataDir.resolve(DataMeta.FILE_NAME).toString());
    }

    /**
     * Rebuilds a described tokenizer.
     *
     * @param hfFile      the copy of the tokenizer.json (read for hf only)
     * @param describedIn the description's file, for errors
     */
    public static Tokenizer fromSpec(TokenizerSpec spec, Path hfFile, String describedIn) {
        spec.check(describedIn);
        Tokenizer t = switch (spec.name()) {
            case CharTokenizer.NAME -> CharTokenizer.of(spec.charVocab());
            case ByteTokenizer.NAME -> new ByteTokenizer();
            case Gpt2Tokenizer.NAME -> new Gpt2Tokenizer();
            default -> HfTokenizer.fromCopy(hfFile, spec, describedIn);
        };
        if (t.vocabSize() != spec.vocabSize()) {
            throw new DataException(describedIn + ": field 'vocab_size': tokenizer " + t.name() + " has " + t.vocabSize()
                    + " tokens, field says " + spec.vocabSize());
        }
        return t;
    }

    /** Throws a DataException naming the bad value unless {@code name} is char, byte, gpt2 or hf:PATH. */
    public static String checkName(String name) {
        boolean hf = name != null && name.startsWith(HfTokenizer.PREFIX) && name.length() > HfTokenizer.PREFIX.length();
        if (name == null || !(hf || List.of(CharTokenizer.NAME, ByteTokenizer.NAME, Gpt2Tokenizer.NAME).contains(name))) {
            throw new DataException("tokenizer: expected " + CHOICES + " (PATH a Hugging Face tokenizer.json), found '" + name + "'");
        }
        return name;
    }
}
