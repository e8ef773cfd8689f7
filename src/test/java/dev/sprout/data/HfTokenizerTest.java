package dev.sprout.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** hf:PATH tokenizers: encoding through the tokenizers library, prepare's self-contained folders, the end-of-text choice, bad files, uint32. */
class HfTokenizerTest {
    @TempDir
    Path tmp;

    static final String DOC1 = "the cat and the hat sat on the mat.\nIt's 42 degrees; naïve café 🌱";
    static final String DOC2 = "A second document, with the\ttab and  two spaces.";

    @Test
    void encodesWithTheFilesMergesAndAddsNoSpecialTokens() throws IOException {
        HfTokenizer t = HfTokenizer.fromFile(HfTestTokenizers.byteLevelBpe(tmp.resolve("tok/tokenizer.json"), true));
        assertEquals(HfTestTokenizers.END_OF_TEXT_ID + 1, t.vocabSize());
        assertArrayEquals(new int[] {HfTestTokenizers.THE}, t.encode(" the"), "merged by the file's rules, not byte by byte");
        assertArrayEquals(new int[] {'t', 256 + 1}, t.encode("the"), "'t' + 'he': no merge 't he' in the file");
        int[] ids = t.encode(DOC1);
        assertTrue(ids.length < DOC1.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
        assertEquals(DOC1, t.decode(ids));
        assertEquals(HfTestTokenizers.END_OF_TEXT_ID, t.eotToken());
        assertEquals(HfTestTokenizers.END_OF_TEXT, t.decode(t.eotToken()), "decoding keeps special tokens visible");
        assertTrue(t.endOfTextReason().contains("special token"), t.endOfTextReason());
        TokenizerSpec spec = t.spec();
        assertEquals("hf", spec.name());
        assertEquals(HfTokenizer.sha256(Files.readAllBytes(tmp.resolve("tok/tokenizer.json"))), spec.sha256());
        assertEquals(HfTestTokenizers.END_OF_TEXT, spec.eosToken());
        StringBuilder longText = new StringBuilder();
        while (longText.length() < 5000) longText.append(DOC2).append(' ');
        assertEquals(longText.toString(), t.decode(t.encode(longText.toString())), "no truncation to the library's default 512 tokens");
    }

    @Test
    void prepareKeepsACopyAndRecordsTheFilesHash() throws IOException {
        Path file = HfTestTokenizers.byteLevelBpe(tmp.resolve("tok/tokenizer.json"), true);
        TestData.write(tmp.resolve("in/1.txt"), DOC1);
        TestData.write(tmp.resolve("in/2.txt"), DOC2);
        Path out = tmp.resolve("data");
        List<String> said = new ArrayList<>();
        PrepareResult r = Prepare.run(PrepareOptions.of(List.of(tmp.resolve("in")), "hf:" + file, out).withValFraction(0).withProgress(said::add));
        DataMeta m = r.meta();
        assertEquals("hf", m.tokenizer());
        assertEquals(HfTestTokenizers.END_OF_TEXT_ID + 1, m.vocabSize());
        assertEquals(HfTokenizer.sha256(Files.readAllBytes(file)), m.tokenizerSha256());
        assertEquals(HfTestTokenizers.END_OF_TEXT, m.eosToken());
        assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(out.resolve("tokenizer.json")), "the folder keeps the file byte for byte");
        assertTrue(said.stream().anyMatch(s -> s.contains("end-of-text token '<|endoftext|>'")), String.join("\n", said));

        Files.delete(file); // the folder needs nothing outside it
        TokenDataset ds = TokenDataset.open(out);
        Tokenizer t = ds.tokenizer();
        int[] all = IntStream.range(0, (int) ds.tokens(Split.TRAIN)).map(i -> ds.token(Split.TRAIN, i)).toArray();
        assertEquals(DOC1 + HfTestTokenizers.END_OF_TEXT + DOC2, t.decode(all), "documents joined by the end-of-text token");

        Files.writeString(out.resolve("tokenizer.json"), Files.readString(out.resolve("tokenizer.json")).replace("\"Ġ c\"", "\"Ġ w\""));
        DataException e = assertThrows(DataException.class, () -> TokenDataset.open(out).tokenizer());
        assertTrue(e.getMessage().contains(out.resolve("tokenizer.json").toString()) && e.getMessage().contains("SHA-256"), e.getMessage());
        Files.delete(out.resolve("tokenizer.json"));
        e = assertThrows(DataException.class, () -> TokenDataset.open(out).tokenizer());
        assertTrue(e.getMessage().contains("tokenizer.json: missing"), e.getMessage());
    }

    /** Long documents are tokenized in chunks cut at "word\nWord": for a byte-level BPE that gives the tokens of the uncut text. */
    @Test
    void chunkCutsKeepAByteLevelBpesTokens() throws IOException {
        HfTokenizer t = HfTokenizer.fromFile(HfTestTokenizers.byteLevelBpe(tmp.resolve("tok/tokenizer.json"), true));
        StringBuilder sb = new StringBuilder();
        for (int i = 0; sb.length() < 20_000; i++) sb.append(i % 3 == 0 ? DOC1 : DOC2).append(i % 5 == 0 ? "\n\n" : "\n");
        String text = sb.toString();
        TestData.write(tmp.resolve("in/long.txt"), text);
        Prepare.run(PrepareOptions.of(List.of(tmp.resolve("in")), "hf:" + tmp.resolve("tok/tokenizer.json"), tmp.resolve("data")).withValFraction(0), 700);
        TokenDataset ds = TokenDataset.open(tmp.resolve("data"));
        assertArrayEquals(t.encode(text), IntStream.range(0, (int) ds.tokens(Split.TRAIN)).map(i -> ds.token(Split.TRAIN, i)).toArray());
    }

    @Test
    void endOfTextComesFromTokenizerConfigThenFromKnownNamesElseABlankLine() throws IOException {
        Path dir = tmp.resolve("tok");
        Path file = HfTestTokenizers.byteLevelBpe(dir.resolve("tokenizer.json"), true);
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": {\"content\": \"<|endoftext|>\", \"special\": true}}");
        HfTokenizer t = HfTokenizer.fromFile(file);
        assertEquals(HfTestTokenizers.END_OF_TEXT_ID, t.eotToken());
        assertTrue(t.endOfTextReason().contains("tokenizer_config.json"), t.endOfTextReason());

        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"</s>\"}");
        DataException e = assertThrows(DataException.class, () -> HfTokenizer.fromFile(file));
        assertTrue(e.getMessage().contains("tokenizer_config.json: eos_token '</s>' is not a token of"), e.getMessage());

        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": \"x\"}"); // no eos_token: the known names decide
        assertEquals(HfTestTokenizers.END_OF_TEXT_ID, HfTokenizer.fromFile(file).eotToken());

        Path plain = HfTestTokenizers.byteLevelBpe(tmp.resolve("plain/tokenizer.json"), false);
        HfTokenizer none = HfTokenizer.fromFile(plain);
        assertEquals(-1, none.eotToken());
        assertNull(none.spec().eosToken());
        assertEquals("\n\n", none.decode(none.documentSeparator()));
        TestData.write(tmp.resolve("in/1.txt"), DOC1);
        TestData.write(tmp.resolve("in/2.txt"), DOC2);
        Path out = tmp.resolve("data");
        List<String> said = new ArrayList<>();
        Prepare.run(PrepareOptions.of(List.of(tmp.resolve("in")), "hf:" + plain, out).withValFraction(0).withProgress(said::add));
        assertTrue(said.stream().anyMatch(s -> s.contains("documents separated by a blank line")), String.join("\n", said));
        TokenDataset ds = TokenDataset.open(out);
        int[] all = IntStream.range(0, (int) ds.tokens(Split.TRAIN)).map(i -> ds.token(Split.TRAIN, i)).toArray();
        assertEquals(DOC1 + "\n\n" + DOC2, ds.tokenizer().decode(all));
    }

    @Test
    void badTokenizerFilesAreOneLineErrorsNamingTheFile() throws IOException {
        Path missing = tmp.resolve("nope/tokenizer.json");
        assertOneLine(assertThrows(DataException.class, () -> Tokenizers.forName("hf:" + missing, null)), missing + ": tokenizer file not found");
        Path text = Files.writeString(tmp.resolve("notes.txt"), "just some\nnotes");
        assertOneLine(assertThrows(DataException.class, () -> Tokenizers.forName("hf:" + text, null)), text + ": not a JSON file");
        Path other = Files.writeString(tmp.resolve("config.json"), "{\"model_type\": \"llama\", \"hidden_size\": 64}");
        assertOneLine(assertThrows(DataException.class, () -> Tokenizers.forName("hf:" + other, null)), other + ": not a Hugging Face tokenizer.json");
        Path odd = Files.writeString(tmp.resolve("odd.json"), "{\"model\": {\"type\": \"Nonsense\", \"vocab\": {\"a\": 0}}}");
        assertOneLine(assertThrows(DataException.class, () -> Tokenizers.forName("hf:" + odd, null)), odd + ": the tokenizers library cannot load it");
        Path badId = Files.writeString(tmp.resolve("bad-id.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": \"zero\"}}}");
        assertOneLine(assertThrows(DataException.class, () -> Tokenizers.forName("hf:" + badId, null)), badId + ": model.vocab: token 'a' has id");
        assertOneLine(assertThrows(DataException.class, () -> Tokenizers.checkName("hf:")), "expected char | byte | gpt2 | hf:PATH");
        // prepare refuses before writing anything
        TestData.write(tmp.resolve("in/1.txt"), DOC1);
        assertThrows(DataException.class, () -> Prepare.run(PrepareOptions.of(List.of(tmp.resolve("in")), "hf:" + text, tmp.resolve("data"))));
        assertFalse(Files.exists(tmp.resolve("data")));
    }

    private static void assertOneLine(DataException e, String expected) {
        assertTrue(e.getMessage().startsWith(expected) || e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }

    /** Ids above 65,535 need uint32 shards: written, split into train and val across shard files, read back and decoded. */
    @Test
    void aVocabularyAbove65536IsStoredAsUint32() throws IOException {
        int n = 70_000;
        Path file = HfTestTokenizers.wordLevel(tmp.resolve("words/tokenizer.json"), n);
        StringBuilder text = new StringBuilder();
        List<Integer> want = new ArrayList<>();
        long s = 11;
        for (int i = 0; i < 3000; i++) {
            s = s * 6364136223846793005L + 1442695040888963407L;
            int id = i % 10 == 0 ? n - 1 - i : (int) ((s >>> 33) % n); // many ids past 65,535
            text.append('w').append(id).append(i % 17 == 16 ? '\n' : ' ');
            want.add(id);
        }
        TestData.write(tmp.resolve("in/words.txt"), text.toString());
        Path out = tmp.resolve("data");
        DataMeta m = Prepare.run(PrepareOptions.of(List.of(tmp.resolve("in")), "hf:" + file, out).withShardTokens(700)).meta();
        assertEquals(n + 1, m.vocabSize());
        assertEquals("uint32", m.dtype());
        TokenDataset ds = TokenDataset.open(out, true);
        assertTrue(ds.meta().shards(Split.TRAIN).size() > 1 && !ds.meta().shards(Split.VAL).isEmpty());
        for (DataMeta.Shard sh : ds.meta().shards()) assertEquals(4 * sh.tokens(), Files.size(out.resolve(sh.file())), sh.file());
        long[] train = TestData.all(ds, Split.TRAIN), val = TestData.all(ds, Split.VAL);
        assertEquals(want.size(), train.length + val.length);
        for (int i = 0; i < want.size(); i++) {
            long got = i < train.length ? train[i] : val[i - train.length];
            assertEquals((long) want.get(i), got, "token " + i);
        }
        assertEquals((int) train[0], ds.token(Split.TRAIN, 0));
        assertEquals(n - 1, ds.token(Split.TRAIN, 0), "the largest ordinary id, read back whole");
        long[] x = new long[2 * 16], y = new long[2 * 16];
        new BatchSampler(ds, 2, 16, 1).next(x, y);
        for (long v : x) assertTrue(v >= 0 && v <= n, "sampled ids are token ids: " + v);
    }
}
