package dev.sprout.data;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A Hugging Face tokenizer.json (Llama, Mistral, Qwen, ... vocabularies) run by the tokenizers library ({@link DjlTokenizers}).
 * Text is encoded as it is: no BOS or EOS is added inside a document; between documents prepare writes the end-of-text
 * token chosen once ({@link HfEndOfText}). The file's bytes are kept, so that every copy (the data folder's, a run's, an
 * export's) is exactly the file that was hashed.
 */
public final class HfTokenizer implements Tokenizer {
    public static final String NAME = "hf";
    /** How prepare's --tokenizer names one: hf:PATH. */
    public static final String PREFIX = "hf:";
    /** The copy's name in data folders, run folders and exports. */
    public static final String FILE = "tokenizer.json";

    private final byte[] json;
    private final String sha256;
    private final HfTokenizerJson vocab;
    private final HfEndOfText endOfText;
    private final HuggingFaceTokenizer library;

    private HfTokenizer(byte[] json, String sha256, HfTokenizerJson vocab, HfEndOfText endOfText, HuggingFaceTokenizer library) {
        this.json = json;
        this.sha256 = sha256;
        this.vocab = vocab;
        this.endOfText = endOfText;
        this.library = library;
    }

    /** The user's tokenizer.json (prepare): checked, and its end-of-text token chosen. */
    public static HfTokenizer fromFile(Path file) {
        byte[] json = read(file, file + ": tokenizer file not found");
        HfTokenizerJson vocab = HfTokenizerJson.parse(json, file.toString());
        HfEndOfText eos = HfEndOfText.choose(vocab, file);
        return new HfTokenizer(json, sha256(json), vocab, eos, DjlTokenizers.load(json, file));
    }

    /**
     * The copy in a data folder or run folder, which must be the file its description hashed.
     *
     * @param describedIn the description's file (meta.json, tokenizer_spec.json), for errors
     */
    static HfTokenizer fromCopy(Path file, TokenizerSpec spec, String describedIn) {
        byte[] json = read(file, file + ": missing, though " + describedIn + " names an hf tokenizer whose copy belongs there");
        String hash = sha256(json);
        if (!hash.equals(spec.sha256())) {
            throw new DataException(file + ": its SHA-256 " + hash + " is not the " + spec.sha256() + " that " + describedIn
                    + " records (the file was changed or replaced)");
        }
        HfTokenizerJson vocab = HfTokenizerJson.parse(json, file.toString());
        return new HfTokenizer(json, hash, vocab, HfEndOfText.named(spec.eosToken(), vocab, describedIn, file), DjlTokenizers.load(json, file));
    }

    private static byte[] read(Path file, String notFound) {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new DataException(notFound);
        } catch (IOException e) {
            throw new DataException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The tokenizer.json's bytes (not a copy: callers only write them out). */
    byte[] json() {
        return json;
    }

    /** Writes the tokenizer.json, byte for byte the file that was hashed. */
    public void writeFile(Path target) throws IOException {
        Files.write(target, json);
    }

    public String sha256() {
        return sha256;
    }

    /** The end-of-text token written between documents (null for none), and why. */
    public String endOfTextToken() {
        return endOfText.token();
    }

    public String endOfTextReason() {
        return endOfText.reason();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public TokenizerSpec spec() {
        return new TokenizerSpec(NAME, vocab.vocabSize(), null, sha256, endOfText.token());
    }

    @Override
    public int vocabSize() {
        return vocab.vocabSize();
    }

    /** Special tokens spelled out in the text (e.g. a literal "</s>") are matched as those tokens, as the library does. */
    @Override
    public int[] encode(String text) {
        long[] ids = library.encode(text, false, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = (int) ids[i];
        return out;
    }

    /** Special tokens are kept in the text (like gpt2's {@code <|endoftext|>}), so a sample shows where a document ended. */
    @Override
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab.vocabSize()) throw new IllegalArgumentException("hf token " + ids[i] + " out of range [0, " + vocab.vocabSize() + ")");
            l[i] = ids[i];
        }
        return library.decode(l, false);
    }

    @Override
    public int eotToken() {
        return endOfText.id();
    }
}
