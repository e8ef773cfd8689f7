package dev.sprout.data;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A run's tokenizer as Hugging Face files, for {@code export --format hf}: {@code tokenizer.json}, which the tokenizers library
 * and transformers' PreTrainedTokenizerFast load, and {@code tokenizer_config.json}. Each kind in the form HF has for it:
 * gpt2 as GPT-2's own byte-level BPE (vocabulary and merges recovered from r50k_base: {@link Gpt2Merges}); byte as a
 * byte-level model without merges whose 256 ids are the byte values; char as a WordLevel model over its characters behind a
 * pre-tokenizer that isolates every character; hf as the run's tokenizer.json itself. Before anything is written the
 * tokenizer.json is loaded through the tokenizers library and must encode sample text to Sprout's ids and decode them back
 * to Sprout's text.
 */
public final class HfTokenizerFiles {
    public static final String TOKENIZER = "tokenizer.json";
    public static final String CONFIG = "tokenizer_config.json";
    /**
     * What the written tokenizer.json must encode as Sprout does: words, contractions, digits, runs of spaces, tabs and
     * newlines, accents, other scripts and an emoji (a char vocabulary is checked on its own characters instead).
     */
    static final String SAMPLE = "Hello, world! It's 2024; we're   testing\tsprout's tokenizers.\n\n  Indented line, numbers 1234567890 and"
            + " 3.14.\r\nnaïve café, Straße, Ελληνικά, 日本語のテキスト, עברית 🌱 end\n";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private HfTokenizerFiles() {}

    /**
     * Writes tokenizer.json and tokenizer_config.json into {@code dir} after checking the tokenizer.json.
     *
     * @param modelMaxLength the model's context, tokenizer_config.json's model_max_length
     * @return the files written
     */
    public static List<Path> write(Path dir, Tokenizer t, int modelMaxLength) throws IOException {
        byte[] json = tokenizerJson(t);
        Path file = dir.resolve(TOKENIZER), config = dir.resolve(CONFIG);
        verify(json, t, file);
        Files.write(file, json);
        Files.writeString(config, config(t, modelMaxLength), StandardCharsets.UTF_8);
        return List.of(file, config);
    }

    /** The tokenizer.json that reproduces {@code t}. */
    static byte[] tokenizerJson(Tokenizer t) {
        if (t instanceof HfTokenizer hf) return hf.json();
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        root.putNull("normalizer");
        if (t instanceof CharTokenizer c) {
            // one token per code point, as CharTokenizer: isolate every character ([\s\S] also matches newlines), look each up
            ObjectNode split = root.putObject("pre_tokenizer");
            split.put("type", "Split");
            split.putObject("pattern").put("Regex", "[\\s\\S]");
            split.put("behavior", "Isolated").put("invert", false);
            root.putNull("post_processor");
            root.putObject("decoder").put("type", "Fuse"); // join the characters; HF's default would put spaces between tokens
            ObjectNode model = root.putObject("model");
            model.put("type", "WordLevel");
            ObjectNode vocab = model.putObject("vocab");
            int[] cps = c.codePoints();
            for (int id = 0; id < cps.length; id++) vocab.put(Character.toString(cps[id]), id);
            // not in the vocabulary: a character outside it is an error, as in Sprout, instead of a silent unknown token
            model.put("unk_token", "<unk>");
        } else if (t instanceof ByteTokenizer) {
            ObjectNode vocab = JSON.createObjectNode();
            for (int b = 0; b < 256; b++) vocab.put(ByteLevelAlphabet.of(b), b);
            byteLevel(root, vocab, List.of(), false);
        } else if (t instanceof Gpt2Tokenizer) {
            Gpt2Merges gpt2 = Gpt2Merges.derive();
            ObjectNode vocab = JSON.createObjectNode();
            gpt2.vocab().forEach(vocab::put);
            addedToken(added, Gpt2Tokenizer.EOT, Gpt2Merges.END_OF_TEXT);
            byteLevel(root, vocab, gpt2.merges(), true);
        } else {
            throw new IllegalArgumentException("no Hugging Face form for tokenizer " + t.name());
        }
        try {
            return JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** GPT-2's layout: ByteLevel pre-tokenizer (with GPT-2's split regex when {@code regex}), BPE model, ByteLevel decoder. */
    private static void byteLevel(ObjectNode root, ObjectNode vocab, List<String> merges, boolean regex) {
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", regex);
        root.putNull("post_processor");
        root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", regex);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").putNull("dropout");
        model.putNull("unk_token");
        model.put("continuing_subword_prefix", "").put("end_of_word_suffix", "").put("fuse_unk", false).put("byte_fallback", false)
                .put("ignore_merges", false);
        model.set("vocab", vocab);
        ArrayNode m = model.putArray("merges");
        merges.forEach(m::add);
    }

    private static void addedToken(ArrayNode added, int id, String content) {
        added.addObject().put("id", id).put("content", content).put("single_word", false).put("lstrip", false).put("rstrip", false)
                .put("normalized", false).put("special", true);
    }

    /**
     * tokenizer_config.json: transformers' generic fast tokenizer over tokenizer.json, the end-of-text token as bos and eos
     * (as config.json's ids), and no clean-up of spaces on decode, which would change the decoded text.
     */
    static String config(Tokenizer t, int modelMaxLength) throws JsonProcessingException {
        ObjectNode c = JSON.createObjectNode();
        c.put("tokenizer_class", "PreTrainedTokenizerFast");
        c.put("model_max_length", modelMaxLength);
        c.put("clean_up_tokenization_spaces", false);
        if (t.eotToken() >= 0) {
            String eos = t.decode(t.eotToken());
            c.put("bos_token", eos).put("eos_token", eos);
        }
        return JSON.writeValueAsString(c) + "\n";
    }

    /** Loads {@code json} through the tokenizers library: it must encode the sample to {@code t}'s ids and decode them to its text. */
    static void verify(byte[] json, Tokenizer t, Path file) {
        String sample = t instanceof CharTokenizer c ? charsOf(c) : SAMPLE;
        int[] want = t.encode(sample);
        HuggingFaceTokenizer hf = DjlTokenizers.load(json, file);
        try {
            long[] got = hf.encode(sample, false, false).getIds();
            if (!Arrays.equals(Arrays.stream(want).asLongStream().toArray(), got)) {
                throw new IllegalStateException(file + " for tokenizer " + t.name() + " encodes the sample text to other ids than Sprout: "
                        + firstDifference(want, got));
            }
            String decoded = hf.decode(got, false);
            if (!decoded.equals(t.decode(want))) {
                throw new IllegalStateException(file + " for tokenizer " + t.name() + " decodes the sample's ids to other text than Sprout");
            }
        } finally {
            hf.close();
        }
    }

    private static String charsOf(CharTokenizer c) {
        StringBuilder sb = new StringBuilder();
        for (int cp : c.codePoints()) sb.appendCodePoint(cp);
        return sb.toString();
    }

    private static String firstDifference(int[] want, long[] got) {
        for (int i = 0; i < Math.min(want.length, got.length); i++) {
            if (want[i] != got[i]) return "at token " + i + ", " + want[i] + " against " + got[i];
        }
        return want.length + " tokens against " + got.length;
    }
}
