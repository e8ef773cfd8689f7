package dev.sprout.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * export --format hf's tokenizer files: each kind's tokenizer.json, loaded through the tokenizers library, encodes text to
 * Sprout's ids and decodes them to Sprout's text.
 */
class HfTokenizerFilesTest {
    @TempDir
    Path tmp;

    static final List<String> TEXTS = List.of(
            "Hello world",
            " leading space, trailing space ",
            "It's, I'm, we'll, they've, you'd, don't, she'S",
            "numbers: 0 12 345 6789 3.14159 1,000,000 2024-06-01",
            "  two  spaces,\tthree\t\t\ttabs,\n\n\nnewlines\r\nand CRLF   \n",
            "naïve café, Straße, Ελληνικά, русский, 日本語のテキスト, 한국어, עברית, العربية",
            "emoji 🌱🚀👩‍👩‍👧 and symbols ©®™ ≤≥ ∑∫ → ← §¶",
            "code: for (int i = 0; i < n; i++) { x[i] += y[i] * 2; } // done\n    return x;",
            "URLs https://example.com/a?b=c&d=e#f and e-mail someone@example.org",
            "\u00a0non-breaking\u2009thin\u3000ideographic spaces");

    /** The tokenizers library's ids for {@code text} under the tokenizer.json {@code json}. */
    private static long[] libraryIds(HuggingFaceTokenizer hf, String text) {
        return hf.encode(text, false, false).getIds();
    }

    private static void assertSameAsSprout(Tokenizer t, byte[] json, List<String> texts) {
        HuggingFaceTokenizer hf = DjlTokenizers.load(json, Path.of("exported/tokenizer.json"));
        try {
            for (String text : texts) {
                int[] want = t.encode(text);
                long[] got = libraryIds(hf, text);
                assertArrayEquals(Arrays.stream(want).asLongStream().toArray(), got, t.name() + ": ids of '" + text + "'");
                assertEquals(t.decode(want), hf.decode(got, false), t.name() + ": text of the ids of '" + text + "'");
            }
        } finally {
            hf.close();
        }
    }

    @Test
    void gpt2MergesRecoveredFromR50kEncodeAsJtokkitDoes() throws IOException {
        Gpt2Merges m = Gpt2Merges.derive();
        assertEquals(50_257, m.vocab().size());
        assertEquals(50_000, m.merges().size(), "GPT-2's merges.txt has 50,000 merges");
        assertEquals("Ġ t", m.merges().get(0), "the first line of GPT-2's merges.txt");
        assertEquals(Integer.valueOf(50256), m.vocab().get("<|endoftext|>"));
        assertEquals(Integer.valueOf(0), m.vocab().get("!"));
        assertEquals(Integer.valueOf(220), m.vocab().get("Ġ"), "a space is id 220 in GPT-2");

        Gpt2Tokenizer t = new Gpt2Tokenizer();
        StringBuilder prose = new StringBuilder();
        Path shakespeare = Path.of("..", "shared", "data", "tinyshakespeare", "input.txt");
        if (Files.isRegularFile(shakespeare)) prose.append(Files.readString(shakespeare), 0, 20_000);
        prose.append(String.join("\n", TEXTS));
        List<String> texts = new java.util.ArrayList<>(TEXTS);
        texts.add(prose.toString());
        byte[] json = HfTokenizerFiles.tokenizerJson(t);
        assertSameAsSprout(t, json, texts);

        // the one known difference: spelled out in text, <|endoftext|> is the special token to the library (as with GPT-2's
        // tokenizer.json on the Hub), while Sprout's gpt2 encodes text as ordinary text
        HuggingFaceTokenizer hf = DjlTokenizers.load(json, Path.of("gpt2/tokenizer.json"));
        try {
            assertArrayEquals(new long[] {50256}, libraryIds(hf, "<|endoftext|>"));
            assertTrue(t.encode("<|endoftext|>").length > 1 && Arrays.stream(t.encode("<|endoftext|>")).noneMatch(id -> id == 50256));
        } finally {
            hf.close();
        }
    }

    @Test
    void byteTokenizerJsonIdsAreTheBytes() throws IOException {
        ByteTokenizer t = new ByteTokenizer();
        byte[] json = HfTokenizerFiles.tokenizerJson(t);
        assertSameAsSprout(t, json, TEXTS);
        JsonNode vocab = new ObjectMapper().readTree(json).get("model").get("vocab");
        assertEquals(256, vocab.size());
        assertEquals(32, vocab.get("Ġ").asInt(), "the space byte");
    }

    @Test
    void charTokenizerJsonHasTheVocabularyAndSplitsIntoCharacters() throws IOException {
        String corpus = String.join("", TEXTS).replace("\r", "") + "\u0301e"; // a combining accent is its own code point
        CharTokenizer t = CharTokenizer.fromText(corpus);
        byte[] json = HfTokenizerFiles.tokenizerJson(t);
        assertSameAsSprout(t, json, List.of(corpus, "Hello\n\nworld", "e\u0301 🌱", " "));
        HuggingFaceTokenizer hf = DjlTokenizers.load(json, Path.of("char/tokenizer.json"));
        try {
            assertFalse(Arrays.equals(new long[0], libraryIds(hf, "Hello")));
            Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> libraryIds(hf, "Q~"));
            assertTrue(e.getMessage() != null, "a character outside the vocabulary is an error, as in Sprout");
        } finally {
            hf.close();
        }
    }

    @Test
    void hfTokenizerJsonIsTheRunsOwnFileAndTheConfigNamesItsEndOfText() throws IOException {
        HfTokenizer t = HfTokenizer.fromFile(HfTestTokenizers.byteLevelBpe(tmp.resolve("tok/tokenizer.json"), true));
        Path out = Files.createDirectories(tmp.resolve("export"));
        List<Path> files = HfTokenizerFiles.write(out, t, 64);
        assertEquals(List.of(out.resolve("tokenizer.json"), out.resolve("tokenizer_config.json")), files);
        assertArrayEquals(Files.readAllBytes(tmp.resolve("tok/tokenizer.json")), Files.readAllBytes(out.resolve("tokenizer.json")));
        JsonNode config = new ObjectMapper().readTree(out.resolve("tokenizer_config.json").toFile());
        assertEquals("PreTrainedTokenizerFast", config.get("tokenizer_class").asText());
        assertEquals(64, config.get("model_max_length").asInt());
        assertEquals(HfTestTokenizers.END_OF_TEXT, config.get("eos_token").asText());
        assertFalse(config.get("clean_up_tokenization_spaces").asBoolean());

        Path charOut = Files.createDirectories(tmp.resolve("char-export"));
        HfTokenizerFiles.write(charOut, CharTokenizer.fromText("abc\n"), 32);
        JsonNode charConfig = new ObjectMapper().readTree(charOut.resolve("tokenizer_config.json").toFile());
        assertFalse(charConfig.has("eos_token"), "a char vocabulary has no end-of-text token");
    }
}
