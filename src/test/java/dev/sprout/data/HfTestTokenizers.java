package dev.sprout.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Small Hugging Face tokenizer.json files made in the tests (no network): a byte-level BPE like GPT-2's, and a large WordLevel. */
public final class HfTestTokenizers {
    /** Merges over GPT-2's byte-level alphabet ('Ġ' is a space), each built from tokens made before it. */
    public static final List<String> MERGES = List.of("Ġ t", "h e", "Ġt he", "i n", "a n", "e r", "o n", "r e", "Ġ a", "Ġ s", "e n",
            "a t", "o r", "Ġ w", "i s", "e s", "in g", "Ġ o", "n d", "Ġa nd", "Ġ c");
    /** The id of " the" (Ġthe, the third merge's token). */
    public static final int THE = 258;
    public static final String END_OF_TEXT = "<|endoftext|>";
    public static final int END_OF_TEXT_ID = 256 + MERGES.size();

    private static final ObjectMapper JSON = new ObjectMapper();

    private HfTestTokenizers() {}

    /** SHA-256 of a file's bytes, as meta.json and tokenizer_spec.json record it. */
    public static String sha256(byte[] bytes) {
        return HfTokenizer.sha256(bytes);
    }

    /** A byte-level BPE: the 256 bytes as ids 0-255 (in byte order), {@link #MERGES} after them, and {@code <|endoftext|>} if asked. */
    public static Path byteLevelBpe(Path file, boolean endOfText) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        ArrayNode added = root.putArray("added_tokens");
        if (endOfText) {
            added.addObject().put("id", END_OF_TEXT_ID).put("content", END_OF_TEXT).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", true);
        root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        ObjectNode vocab = model.putObject("vocab");
        for (int b = 0; b < 256; b++) vocab.put(ByteLevelAlphabet.of(b), b);
        ArrayNode merges = model.putArray("merges");
        for (String m : MERGES) {
            vocab.put(m.replace(" ", ""), vocab.size());
            merges.add(m);
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        JSON.writeValue(file.toFile(), root);
        return file;
    }

    /** A WordLevel vocabulary of the words w0 .. w{n-1} split at whitespace, plus {@code <|endoftext|>} as id n. */
    public static Path wordLevel(Path file, int n) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putArray("added_tokens").addObject().put("id", n).put("content", END_OF_TEXT).put("single_word", false).put("lstrip", false)
                .put("rstrip", false).put("normalized", false).put("special", true);
        root.putObject("pre_tokenizer").put("type", "WhitespaceSplit");
        ObjectNode model = root.putObject("model");
        model.put("type", "WordLevel").put("unk_token", END_OF_TEXT);
        ObjectNode vocab = model.putObject("vocab");
        for (int i = 0; i < n; i++) vocab.put("w" + i, i);
        vocab.put(END_OF_TEXT, n);
        Files.createDirectories(file.toAbsolutePath().getParent());
        JSON.writeValue(file.toFile(), root);
        return file;
    }
}
