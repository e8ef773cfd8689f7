package dev.sprout.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class TokenizerTest {
    static final Path SHAKESPEARE = Path.of("..", "shared", "data", "tinyshakespeare", "input.txt");
    private static final String UNICODE = "Grüße, naïve café — 日本語 テキスト, emoji 🙂🚀, Ελληνικά.\n";

    static String shakespeare() throws Exception {
        Assumptions.assumeTrue(Files.isRegularFile(SHAKESPEARE), "tinyshakespeare not at " + SHAKESPEARE.toAbsolutePath());
        return Files.readString(SHAKESPEARE);
    }

    @Test
    void charTokenizerOnTinyShakespeareHas65SymbolsAndRoundTrips() throws Exception {
        String text = shakespeare();
        CharTokenizer t = CharTokenizer.fromText(text);
        assertEquals(65, t.vocabSize());
        assertEquals("char", t.name());
        assertEquals(-1, t.eotToken());
        int[] ids = t.encode(text);
        assertEquals(text.length(), ids.length);
        assertEquals(text, t.decode(ids));
        // Sorted code points, as nanoGPT's shakespeare_char: '\n' is 0, ' ' is 1.
        assertArrayEquals(new int[] {0, 1}, t.encode("\n "));
    }

    @Test
    void charTokenizerRejectsUnknownCharacterNamingIt() {
        CharTokenizer t = CharTokenizer.fromText("abc");
        DataException e = assertThrows(DataException.class, () -> t.encode("abZ"));
        assertTrue(e.getMessage().contains("'Z'"), e.getMessage());
    }

    @Test
    void charTokenizerHandlesSupplementaryCodePoints() {
        CharTokenizer t = CharTokenizer.fromText(UNICODE);
        int[] ids = t.encode(UNICODE);
        assertEquals(UNICODE.codePointCount(0, UNICODE.length()), ids.length);
        assertEquals(UNICODE, t.decode(ids));
        CharTokenizer restored = CharTokenizer.of(t.codePointList());
        assertArrayEquals(ids, restored.encode(UNICODE));
    }

    @Test
    void byteTokenizerRoundTripsUnicode() {
        ByteTokenizer t = new ByteTokenizer();
        int[] ids = t.encode(UNICODE);
        assertEquals(UNICODE.getBytes(StandardCharsets.UTF_8).length, ids.length);
        assertTrue(Arrays.stream(ids).allMatch(i -> i >= 0 && i < 256));
        assertEquals(256, t.vocabSize());
        assertEquals(UNICODE, t.decode(ids));
    }

    @Test
    void gpt2MatchesReferenceIdsAndRoundTripsUnicode() {
        Gpt2Tokenizer t = new Gpt2Tokenizer();
        assertArrayEquals(new int[] {15496, 995}, t.encode("Hello world"));
        assertEquals(50257, t.vocabSize());
        assertEquals(50256, t.eotToken());
        assertEquals(UNICODE, t.decode(t.encode(UNICODE)));
        assertEquals("<|endoftext|>", t.decode(50256));
        // Text that spells the special token stays ordinary text.
        assertFalse(Arrays.stream(t.encode("a <|endoftext|> b")).anyMatch(i -> i == 50256));
        assertArrayEquals(new int[] {50256}, t.documentSeparator());
    }

    @Test
    void textSeparatorForCharAndByte() {
        assertEquals("\n\n", new ByteTokenizer().decode(new ByteTokenizer().documentSeparator()));
        CharTokenizer c = CharTokenizer.fromText("ab\n");
        assertEquals("\n\n", c.decode(c.documentSeparator()));
    }

    @Test
    void tokenizersByNameAndFromMeta() {
        assertEquals("byte", Tokenizers.forName("byte", null).name());
        assertEquals("gpt2", Tokenizers.forName("gpt2", null).name());
        assertEquals(3, Tokenizers.forName("char", "abcabc").vocabSize());
        DataException e = assertThrows(DataException.class, () -> Tokenizers.forName("bogus", null));
        assertTrue(e.getMessage().contains("'bogus'"), e.getMessage());

        DataMeta meta = new DataMeta(1, "char", 3, "uint16", List.of(97, 98, 99), 0, 0, 0.1, 0, 0, null, List.of(), List.of(), "x");
        Tokenizer t = Tokenizers.fromMeta(meta, java.nio.file.Path.of("unused"));
        assertArrayEquals(new int[] {2, 0}, t.encode("ca"));
        DataMeta wrong = new DataMeta(1, "byte", 300, "uint16", null, 0, 0, 0.1, 0, 0, null, List.of(), List.of(), "x");
        assertThrows(DataException.class, () -> Tokenizers.fromMeta(wrong, java.nio.file.Path.of("unused")));
    }

    /** Cutting at "word\nWord" must not change GPT-2 tokens; prepare relies on it to tokenize long files in chunks. */
    @Test
    void gpt2ChunkCutsPreserveTokens() {
        StringBuilder sb = new StringBuilder();
        String[] lines = {"First Citizen:", "Before we proceed any further, hear me speak.", "", "  indented line",
                "trailing spaces   ", "numbers 12345 and 'quotes' it's", "\ttab", "ünïcödé 🙂 line", "end."};
        for (int i = 0; sb.length() < 60_000; i++) sb.append(lines[i % lines.length]).append(i % 7 == 0 ? "\n\n" : "\n");
        String text = sb.toString();
        Gpt2Tokenizer t = new Gpt2Tokenizer();
        int[] whole = t.encode(text);
        int[] chunked = new int[whole.length + 100];
        int n = 0, pos = 0, cuts = 0;
        while (text.length() - pos > 1000) {
            int cut = Chunking.cut(text, pos, 1000);
            assertTrue(cut > pos + 500 && cut <= pos + 1000);
            assertEquals('\n', text.charAt(cut - 1));
            for (int id : t.encode(text.substring(pos, cut))) chunked[n++] = id;
            pos = cut;
            cuts++;
        }
        for (int id : t.encode(text.substring(pos))) chunked[n++] = id;
        assertTrue(cuts > 50);
        assertArrayEquals(whole, Arrays.copyOf(chunked, n));
    }

    @Test
    void chunkCutNeverSplitsSurrogatePair() {
        String text = "🙂".repeat(100);
        for (int limit = 3; limit < 20; limit++) {
            int cut = Chunking.cut(text, 0, limit);
            assertFalse(Character.isLowSurrogate(text.charAt(cut)), "cut " + cut);
        }
    }
}
