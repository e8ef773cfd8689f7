package dev.sprout.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrepareTest {
    @TempDir
    Path tmp;
    Path corpus;
    Path out;

    // Documents in the order prepare must read them: sorted paths under the corpus folder.
    static final String A = "Hello world.\nSecond line of a.";
    static final String D = "gzipped doc: ünïcödé";
    static final String B = "# Title\n\nSome *markdown* body.";
    static final String C1 = "first jsonl doc";
    static final String C2 = "second \"quoted\" doc\nwith a newline";
    static final String JOINED = String.join("\n\n", A, D, B, C1, C2);

    @BeforeEach
    void corpus() throws IOException {
        corpus = tmp.resolve("corpus");
        out = tmp.resolve("out");
        TestData.write(corpus.resolve("a.txt"), A);
        TestData.writeGz(corpus.resolve("d.txt.gz"), D);
        TestData.write(corpus.resolve("sub/b.md"), B);
        TestData.write(corpus.resolve("sub/c.jsonl"),
                "{\"text\": \"" + C1 + "\", \"id\": 1}\n\n{\"text\": \"second \\\"quoted\\\" doc\\nwith a newline\"}\n");
        TestData.write(corpus.resolve(".hidden.txt"), "HIDDEN");
        TestData.write(corpus.resolve(".git/x.txt"), "HIDDEN");
        TestData.write(corpus.resolve("notes.csv"), "IGNORED");
        TestData.write(corpus.resolve("sub/empty.txt"), "");
    }

    @Test
    void writesExpectedTokensSplitAndChecksums() throws Exception {
        List<String> messages = new ArrayList<>();
        PrepareResult r = Prepare.run(PrepareOptions.of(List.of(corpus), "char", out).withProgress(messages::add));
        DataMeta m = r.meta();
        CharTokenizer tok = CharTokenizer.fromText(JOINED);

        assertEquals(out.toAbsolutePath().normalize(), r.dir());
        assertEquals("char", m.tokenizer());
        assertEquals("uint16", m.dtype());
        assertEquals(tok.vocabSize(), m.vocabSize());
        assertEquals(tok.codePointList(), m.charVocab());
        int total = JOINED.codePointCount(0, JOINED.length());
        assertEquals(total, m.trainTokens() + m.valTokens());
        assertEquals((long) Math.floor(total * 0.9), m.trainTokens());
        assertEquals(5, m.documents());
        assertEquals(4, m.sources().size());
        assertTrue(m.sources().get(0).path().endsWith("a.txt"));
        assertEquals(Files.size(corpus.resolve("d.txt.gz")), m.sources().get(1).bytes());
        assertNull(m.maxChars());
        assertFalse(r.capped());
        assertFalse(messages.isEmpty());

        List<String> files;
        try (Stream<Path> s = Files.list(out)) {
            files = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertEquals(List.of("meta.json", "train-00000.bin", "val-00000.bin"), files);
        for (DataMeta.Shard s : m.shards()) {
            byte[] bytes = Files.readAllBytes(out.resolve(s.file()));
            assertEquals(2 * s.tokens(), bytes.length);
            assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)), s.sha256());
        }
        // Raw little-endian uint16 on disk equals the tokenizer's ids of the joined text.
        ByteBuffer train = ByteBuffer.wrap(Files.readAllBytes(out.resolve("train-00000.bin"))).order(ByteOrder.LITTLE_ENDIAN);
        int[] ids = tok.encode(JOINED);
        for (int i = 0; i < m.trainTokens(); i++) assertEquals(ids[i], Short.toUnsignedInt(train.getShort()));

        TokenDataset ds = TokenDataset.open(out, true);
        assertEquals(ds.meta(), DataMeta.read(out.resolve("meta.json")));
        assertEquals(m.vocabSize(), ds.vocabSize());
        String decoded = decode(ds, Split.TRAIN) + decode(ds, Split.VAL);
        assertEquals(JOINED, decoded);
        assertEquals(ids[ids.length - 1], ds.token(Split.VAL, ds.tokens(Split.VAL) - 1));
        // No temp folders left beside the output.
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of("corpus", "out"), s.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    static String decode(TokenDataset ds, Split split) {
        return ds.tokenizer().decode(IntStream.range(0, (int) ds.tokens(split)).map(i -> ds.token(split, i)).toArray());
    }

    @Test
    void gpt2SeparatesDocumentsWithEot() {
        Prepare.run(PrepareOptions.of(List.of(corpus.resolve("sub/c.jsonl")), "gpt2", out).withValFraction(0));
        TokenDataset ds = TokenDataset.open(out);
        Gpt2Tokenizer t = new Gpt2Tokenizer();
        int[] c1 = t.encode(C1), c2 = t.encode(C2);
        int[] expected = IntStream.concat(IntStream.concat(IntStream.of(c1), IntStream.of(50256)), IntStream.of(c2)).toArray();
        assertArrayEquals(IntStream.of(expected).asLongStream().toArray(), TestData.all(ds, Split.TRAIN));
        assertEquals(0, ds.tokens(Split.VAL));
        assertEquals(50257, ds.vocabSize());
        assertEquals("uint16", ds.meta().dtype());
        assertTrue(ds.meta().shards(Split.VAL).isEmpty());
    }

    @Test
    void smallShardsAndChunksGiveTheSameStream() throws IOException {
        String text = "Line one here.\nLine two follows!\n".repeat(300) + "tail";
        Path in = TestData.write(tmp.resolve("big.txt"), text);
        Prepare.run(PrepareOptions.of(List.of(in), "gpt2", out));
        long[] ref = concat(TokenDataset.open(out));

        Path out2 = tmp.resolve("out2");
        PrepareResult r = Prepare.run(PrepareOptions.of(List.of(in), "gpt2", out2).withShardTokens(97), 500);
        TokenDataset ds = TokenDataset.open(out2, true);
        assertArrayEquals(ref, concat(ds));
        assertTrue(r.meta().shards(Split.TRAIN).size() > 5);
        assertTrue(r.meta().shards().stream().allMatch(s -> s.tokens() > 0 && s.tokens() <= 97));
        assertEquals(r.meta().trainTokens(), (long) Math.floor(ref.length * 0.9));
        // A read that crosses shard boundaries.
        long[] dst = new long[300];
        ds.read(Split.TRAIN, 50, 300, dst, 0);
        long[] exp = new long[300];
        System.arraycopy(ref, 50, exp, 0, 300);
        assertArrayEquals(exp, dst);
    }

    static long[] concat(TokenDataset ds) {
        long[] t = TestData.all(ds, Split.TRAIN), v = TestData.all(ds, Split.VAL);
        long[] all = new long[t.length + v.length];
        System.arraycopy(t, 0, all, 0, t.length);
        System.arraycopy(v, 0, all, t.length, v.length);
        return all;
    }

    @Test
    void maxCharsCapsTheCorpus() {
        PrepareResult r = Prepare.run(PrepareOptions.of(List.of(corpus), "byte", out).withMaxChars(20).withValFraction(0.25));
        assertTrue(r.capped());
        assertEquals(20, r.meta().chars());
        assertEquals(20, r.meta().trainTokens() + r.meta().valTokens());
        assertEquals(15, r.meta().trainTokens());
        assertEquals(20L, r.meta().maxChars());
        assertEquals(1, r.meta().sources().size());
        assertEquals(A.substring(0, 20), decode(TokenDataset.open(out), Split.TRAIN) + decode(TokenDataset.open(out), Split.VAL));
    }

    @Test
    void badJsonlLineIsReportedWithFileAndLine() throws IOException {
        Path bad = TestData.write(tmp.resolve("bad.jsonl"), "{\"text\": \"ok\"}\n{\"text\": \"broken\n");
        DataException e = assertThrows(DataException.class, () -> Prepare.run(PrepareOptions.of(List.of(bad), "byte", out)));
        assertTrue(e.getMessage().contains("bad.jsonl:2"), e.getMessage());
        assertFalse(Files.exists(out));

        Path noText = TestData.write(tmp.resolve("notext.jsonl"), "{\"text\": \"ok\"}\n\n{\"body\": \"x\"}\n");
        e = assertThrows(DataException.class, () -> Prepare.run(PrepareOptions.of(List.of(noText), "byte", out)));
        assertTrue(e.getMessage().contains("notext.jsonl:3") && e.getMessage().contains("\"text\""), e.getMessage());
        try (Stream<Path> s = Files.list(tmp)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".out")), "temp folder left behind");
        }
    }

    @Test
    void jsonArrayFilesAreDocuments() throws IOException {
        Path arr = TestData.write(tmp.resolve("docs.json"), "[{\"text\": \"one\"}, {\"text\": \"two\"}]");
        PrepareResult r = Prepare.run(PrepareOptions.of(List.of(arr), "byte", out).withValFraction(0));
        assertEquals(2, r.meta().documents());
        assertEquals("one\n\ntwo", decode(TokenDataset.open(out), Split.TRAIN));

        Path pretty = TestData.write(tmp.resolve("pretty.json"), "{\n  \"title\": \"t\",\n  \"text\": \"solo\"\n}\n");
        Path lines = TestData.write(tmp.resolve("lines.json"), "{\"text\": \"l1\"}\n{\"text\": \"l2\"}\n");
        r = Prepare.run(PrepareOptions.of(List.of(pretty, lines), "byte", out).withForce(true).withValFraction(0));
        assertEquals("solo\n\nl1\n\nl2", decode(TokenDataset.open(out), Split.TRAIN));

        Path bad = TestData.write(tmp.resolve("bad.json"), "[{\"text\": \"one\"},\n {\"txt\": \"two\"}]");
        DataException e = assertThrows(DataException.class, () -> Prepare.run(PrepareOptions.of(List.of(bad), "byte", out).withForce(true)));
        assertTrue(e.getMessage().contains("bad.json:2: element 1"), e.getMessage());
        Path twoOnALine = TestData.write(tmp.resolve("two.jsonl"), "{\"text\": \"a\"} {\"text\": \"b\"}\n");
        e = assertThrows(DataException.class, () -> Prepare.run(PrepareOptions.of(List.of(twoOnALine), "byte", out).withForce(true)));
        assertTrue(e.getMessage().contains("two.jsonl:1"), e.getMessage());
    }

    @Test
    void badInputsAndOptionsAreNamed() throws IOException {
        Path missing = tmp.resolve("nope");
        DataException e = assertThrows(DataException.class, () -> Prepare.run(PrepareOptions.of(List.of(missing), "char", out)));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());

        e = assertThrows(DataException.class, () -> Prepare.run(PrepareOptions.of(List.of(corpus), "char", out).withValFraction(1.5)));
        assertTrue(e.getMessage().contains("val_fraction") && e.getMessage().contains("1.5"), e.getMessage());

        Path latin1 = tmp.resolve("latin1.txt");
        Files.write(latin1, new byte[] {'c', 'a', 'f', (byte) 0xE9});
        // Text is UTF-8 for every tokenizer but byte, which takes the file's bytes (PrepareInputsTest).
        e = assertThrows(DataException.class, () -> Prepare.run(PrepareOptions.of(List.of(latin1), "char", out)));
        assertTrue(e.getMessage().contains("latin1.txt") && e.getMessage().contains("UTF-8"), e.getMessage());

        Path empty = Files.createDirectories(tmp.resolve("emptydir"));
        e = assertThrows(DataException.class, () -> Prepare.run(PrepareOptions.of(List.of(empty), "byte", out)));
        assertTrue(e.getMessage().contains("emptydir"), e.getMessage());
    }

    @Test
    void refusesForeignFolderAndReplacesEarlierDataFolderOnlyWithForce() throws IOException {
        Path foreign = tmp.resolve("foreign");
        TestData.write(foreign.resolve("thesis.tex"), "precious");
        for (boolean force : new boolean[] {false, true}) {
            DataException e = assertThrows(DataException.class, () -> Prepare.run(PrepareOptions.of(List.of(corpus), "char", foreign).withForce(force)));
            assertTrue(e.getMessage().contains(foreign.toString()), e.getMessage());
            assertTrue(Files.exists(foreign.resolve("thesis.tex")));
        }

        Prepare.run(PrepareOptions.of(List.of(corpus), "char", out));
        String meta = Files.readString(out.resolve("meta.json"));
        DataException e = assertThrows(DataException.class, () -> Prepare.run(PrepareOptions.of(List.of(corpus.resolve("a.txt")), "byte", out)));
        assertEquals(out.toAbsolutePath().normalize() + ": not empty (it holds prepared data); pass --force to replace it", e.getMessage());
        assertEquals(meta, Files.readString(out.resolve("meta.json")), "the refused prepare left the folder as it was");
        Prepare.run(PrepareOptions.of(List.of(corpus.resolve("a.txt")), "byte", out).withForce(true));
        assertEquals("byte", TokenDataset.open(out).meta().tokenizer());
        assertEquals(A, decode(TokenDataset.open(out), Split.TRAIN) + decode(TokenDataset.open(out), Split.VAL));

        // An output inside an input folder is not read back as input.
        Path inside = corpus.resolve("data");
        Prepare.run(PrepareOptions.of(List.of(corpus), "char", inside));
        PrepareResult again = Prepare.run(PrepareOptions.of(List.of(corpus), "char", inside).withForce(true));
        assertEquals(4, again.meta().sources().size());
    }

    /** A char vocabulary of more than 65,536 code points is stored as uint32, across shards and the train/val cut. */
    @Test
    void charVocabularyAbove65536RoundTripsThroughUint32() throws IOException {
        StringBuilder sb = new StringBuilder();
        int added = 0;
        for (int cp = 0x21; added < 70_000; cp++) {
            if (cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE) continue;
            sb.appendCodePoint(cp);
            added++;
        }
        String text = sb.reverse().toString(); // reverse() keeps surrogate pairs intact; the largest code points (ids) come first
        TokenDataset ds = TestData.charDataset(tmp, text, 0.25, 20_000);
        assertEquals(70_000, ds.vocabSize());
        assertEquals("uint32", ds.meta().dtype());
        assertTrue(ds.meta().shards(Split.TRAIN).size() > 1);
        assertEquals(69_999, ds.token(Split.TRAIN, 0));
        assertEquals(text, decode(ds, Split.TRAIN) + decode(ds, Split.VAL));
    }

    @Test
    void truncatedMissingAndCorruptShardsAreReported() throws IOException {
        Prepare.run(PrepareOptions.of(List.of(corpus), "char", out));
        Path shard = out.resolve("train-00000.bin");
        byte[] orig = Files.readAllBytes(shard);

        try (RandomAccessFile f = new RandomAccessFile(shard.toFile(), "rw")) {
            f.setLength(orig.length - 2);
        }
        DataException e = assertThrows(DataException.class, () -> TokenDataset.open(out));
        assertTrue(e.getMessage().contains("train-00000.bin") && e.getMessage().contains("truncated"), e.getMessage());

        Files.delete(shard);
        e = assertThrows(DataException.class, () -> TokenDataset.open(out));
        assertTrue(e.getMessage().contains("train-00000.bin") && e.getMessage().contains("missing"), e.getMessage());

        byte[] flipped = orig.clone();
        flipped[3] ^= 1;
        Files.write(shard, flipped);
        TokenDataset.open(out);  // sizes fine, checksum not checked
        e = assertThrows(DataException.class, () -> TokenDataset.open(out, true));
        assertTrue(e.getMessage().contains("train-00000.bin") && e.getMessage().contains("sha256"), e.getMessage());
    }

    @Test
    void missingOrCorruptMetaIsReported() throws IOException {
        DataException e = assertThrows(DataException.class, () -> TokenDataset.open(tmp.resolve("absent")));
        assertTrue(e.getMessage().contains("absent"), e.getMessage());

        Prepare.run(PrepareOptions.of(List.of(corpus), "char", out));
        Path meta = out.resolve("meta.json");
        String json = Files.readString(meta);

        Files.writeString(meta, json.substring(0, json.length() / 2));
        e = assertThrows(DataException.class, () -> TokenDataset.open(out));
        assertTrue(e.getMessage().contains("meta.json") && e.getMessage().contains("corrupt"), e.getMessage());

        Files.writeString(meta, json.replaceFirst("\"train_tokens\" : \\d+", "\"train_tokens\" : 3"));
        e = assertThrows(DataException.class, () -> TokenDataset.open(out));
        assertTrue(e.getMessage().contains("meta.json") && e.getMessage().contains("train_tokens"), e.getMessage());

        Files.writeString(meta, json.replace("\"dtype\" : \"uint16\"", "\"dtype\" : \"float32\""));
        e = assertThrows(DataException.class, () -> TokenDataset.open(out));
        assertTrue(e.getMessage().contains("dtype") && e.getMessage().contains("float32"), e.getMessage());

        Files.delete(meta);
        e = assertThrows(DataException.class, () -> TokenDataset.open(out));
        assertTrue(e.getMessage().contains("meta.json"), e.getMessage());
        // A folder whose meta is gone is no longer recognised as ours, so prepare will not overwrite it.
        assertThrows(DataException.class, () -> Prepare.run(PrepareOptions.of(List.of(corpus), "char", out)));
    }
}
