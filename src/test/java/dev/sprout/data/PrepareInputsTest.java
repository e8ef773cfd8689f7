package dev.sprout.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** prepare's byte tokenizer on raw bytes, the separator option and skip_bad_files. */
class PrepareInputsTest {
    @TempDir
    Path tmp;

    static final byte[] BLANK_LINE = {10, 10};

    static long[] tokens(Path data) {
        return PrepareTest.concat(TokenDataset.open(data, true));
    }

    static long[] unsigned(byte[]... parts) {
        return Arrays.stream(parts).flatMapToInt(p -> IntStream.range(0, p.length).map(i -> p[i] & 0xFF)).asLongStream().toArray();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] concat(byte[] x, byte[] y) {
        byte[] z = Arrays.copyOf(x, x.length + y.length);
        System.arraycopy(y, 0, z, x.length, y.length);
        return z;
    }

    static Path gz(Path file, byte[] content) throws IOException {
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(content);
        }
        return file;
    }

    // ---- byte tokenizer: raw bytes ----

    /**
     * Pins the byte tokens of UTF-8 text as they were when text was decoded and re-encoded: the file's bytes (a
     * leading byte-order mark dropped), "\n\n" between files.
     */
    @Test
    void utf8TextGivesItsBytesAsBefore() throws IOException {
        byte[] a = utf8("héllo wörld, 日本語 and 𝄞 (four bytes)\nsecond line\n");
        byte[] b = utf8("ζ-file");
        Path fa = Files.write(tmp.resolve("a.txt"), a);
        Path fb = Files.write(tmp.resolve("b.txt"), concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, b));
        Path out = tmp.resolve("out");
        // A small chunk size: chunk cuts must not change the bytes either.
        PrepareResult r = Prepare.run(PrepareOptions.of(List.of(fa, fb), "byte", out).withValFraction(0.2), 7);
        assertArrayEquals(unsigned(a, BLANK_LINE, b), tokens(out));
        assertEquals(2, r.meta().documents());
        assertEquals(a.length + b.length, r.meta().chars(), "bytes, not chars");
    }

    @Test
    void nonUtf8TextIsTokenizedAsItsRawBytes() throws IOException {
        byte[] latin1 = "café, naïve — 100 €\n".getBytes(StandardCharsets.ISO_8859_1);   // é = E9, ï = EF; '—' and '€' become '?'
        byte[] binary = new byte[256];
        for (int i = 0; i < 256; i++) binary[i] = (byte) (255 - i);
        Path f1 = Files.write(tmp.resolve("1-latin1.txt"), latin1);
        Path f2 = gz(tmp.resolve("2-binary.log.gz"), binary);
        // JSON still goes through its string values: the UTF-8 of "é" is C3 A9.
        Path f3 = TestData.write(tmp.resolve("3-doc.jsonl"), "{\"text\": \"\\u00e9t\\u00e9\"}\n");
        Path out = tmp.resolve("out");
        List<String> progress = new ArrayList<>();
        PrepareResult r = Prepare.run(PrepareOptions.of(List.of(f1, f2, f3), "byte", out).withProgress(progress::add), 5);

        long[] expected = unsigned(latin1, BLANK_LINE, binary, BLANK_LINE, new byte[] {(byte) 0xC3, (byte) 0xA9, 't', (byte) 0xC3, (byte) 0xA9});
        assertArrayEquals(expected, tokens(out));
        assertEquals(0xE9, expected[3]);
        assertEquals(3, r.meta().documents());
        assertEquals(latin1.length + 256 + 5, r.meta().chars());
        String last = progress.get(progress.size() - 1);
        assertTrue(last.contains(String.format("3 documents, %,d bytes ->", latin1.length + 256 + 5)), last);

        // Every other tokenizer still reads text as strict UTF-8 and names the file.
        DataException e = assertThrows(DataException.class, () -> Prepare.run(PrepareOptions.of(List.of(f1), "char", tmp.resolve("c"))));
        assertEquals(f1.toAbsolutePath().normalize() + ": not valid UTF-8 text", e.getMessage());
    }

    @Test
    void byteCapCountsBytes() throws IOException {
        byte[] text = utf8("ééé");  // 6 bytes, 3 chars
        Path f = Files.write(tmp.resolve("e.txt"), text);
        PrepareResult r = Prepare.run(PrepareOptions.of(List.of(f), "byte", tmp.resolve("out")).withMaxChars(3).withValFraction(0));
        assertTrue(r.capped());
        assertArrayEquals(unsigned(Arrays.copyOf(text, 3)), tokens(tmp.resolve("out")));
    }

    // ---- separator ----

    static final String WIKI = " = Alpha = \n alpha body \n\n = = Sub = = \n more alpha \n = Beta = \n beta body \n";
    static final String WIKI_HEADING = "^ = [^=].* = $";

    @Test
    void separatorSplitsTextFilesBeforeMatchingLines() throws IOException {
        Path wiki = TestData.write(tmp.resolve("a-wiki.txt"), WIKI);
        Path other = TestData.write(tmp.resolve("b-other.txt"), "other file");
        Path out = tmp.resolve("out");
        PrepareResult r = Prepare.run(PrepareOptions.of(List.of(wiki, other), "byte", out).withSeparator(WIKI_HEADING));
        // The first heading starts the first document (no empty one before it); "= = Sub = =" is no article heading.
        String alpha = " = Alpha = \n alpha body \n\n = = Sub = = \n more alpha \n";
        String beta = " = Beta = \n beta body \n";
        assertEquals(WIKI, alpha + beta);
        assertEquals(3, r.meta().documents());
        assertArrayEquals(unsigned(utf8(alpha), BLANK_LINE, utf8(beta), BLANK_LINE, utf8("other file")), tokens(out));
        assertEquals(WIKI.length() + 10 + 2 * 2, r.meta().trainTokens() + r.meta().valTokens(), "two blank-line separators");

        // Any chunk size gives the same stream, for byte and for char, except that a line longer than a chunk is never
        // a separator (memory stays bounded by the chunk): " = Beta = " is 10 chars.
        for (String tok : List.of("byte", "char")) {
            for (int chunk : new int[] {2, 9, 10, 16}) {
                Path o = tmp.resolve("o-" + tok + chunk);
                PrepareResult rc = Prepare.run(PrepareOptions.of(List.of(wiki, other), tok, o).withSeparator(WIKI_HEADING), chunk);
                TokenDataset ds = TokenDataset.open(o);
                String expected = (chunk >= 10 ? alpha + "\n\n" + beta : WIKI) + "\n\nother file";
                assertEquals(expected, PrepareTest.decode(ds, Split.TRAIN) + PrepareTest.decode(ds, Split.VAL), tok + " chunk " + chunk);
                assertEquals(chunk >= 10 ? 3 : 2, rc.meta().documents(), tok + " chunk " + chunk);
            }
        }
    }

    @Test
    void blankLineSeparatorAndALastLineWithoutNewline() throws IOException {
        Path f = TestData.write(tmp.resolve("p.txt"), "p1\n\np2\n\n\np3");
        Path out = tmp.resolve("out");
        PrepareResult r = Prepare.run(PrepareOptions.of(List.of(f), "char", out).withSeparator("^$").withValFraction(0));
        // Split before each blank line: "p1\n" | "\np2\n" | "\n" | "\np3", joined by "\n\n".
        assertEquals(4, r.meta().documents());
        assertEquals("p1\n" + "\n\n" + "\np2\n" + "\n\n" + "\n" + "\n\n" + "\np3", PrepareTest.decode(TokenDataset.open(out), Split.TRAIN));
        assertEquals(3 + 4 + 1 + 3 + 3 * 2, r.meta().trainTokens());

        // A matching last line without a newline starts a document too; CRLF lines match as "$" allows a final \r.
        Path g = TestData.write(tmp.resolve("g.txt"), "x\r\n = C = ");
        r = Prepare.run(PrepareOptions.of(List.of(g), "byte", out).withForce(true).withSeparator(WIKI_HEADING).withValFraction(0));
        assertEquals(2, r.meta().documents());
        assertEquals("x\r\n\n\n = C = ", PrepareTest.decode(TokenDataset.open(out), Split.TRAIN));
    }

    @Test
    void separatorLeavesJsonDocumentsAloneAndBadRegexIsNamed() throws IOException {
        Path j = TestData.write(tmp.resolve("d.jsonl"), "{\"text\": \"a\\n = H = \\nb\"}\n");
        PrepareResult r = Prepare.run(PrepareOptions.of(List.of(j), "byte", tmp.resolve("out")).withSeparator(WIKI_HEADING));
        assertEquals(1, r.meta().documents());

        DataException e = assertThrows(DataException.class,
                () -> Prepare.run(PrepareOptions.of(List.of(j), "byte", tmp.resolve("o2")).withSeparator("^ = (")));
        assertTrue(e.getMessage().startsWith("separator: '^ = (' is not a valid regular expression"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
        assertFalse(Files.exists(tmp.resolve("o2")));
    }

    // ---- skip_bad_files ----

    /** Valid UTF-8 for a while (several chunks), then a Latin-1 byte: the failure comes after text was read. */
    Path badUtf8(String name) throws IOException {
        return Files.write(tmp.resolve(name), concat(utf8("ZZZ QQQ only in the bad file\n".repeat(20)), new byte[] {'c', 'a', 'f', (byte) 0xE9}));
    }

    @Test
    void skipBadFilesLeavesOutAWholeFileThatFailsMidway() throws IOException {
        Path good = TestData.write(tmp.resolve("a-good.txt"), "hello there");
        Path bad = badUtf8("b-bad.txt");
        Path good2 = TestData.write(tmp.resolve("c-good.jsonl"), "{\"text\": \"more\"}\n");
        Path out = tmp.resolve("out");
        List<String> warnings = new ArrayList<>(), progress = new ArrayList<>();
        PrepareResult r = Prepare.run(PrepareOptions.of(List.of(good, bad, good2), "char", out).withValFraction(0)
                .withSkipBadFiles(true).withWarnings(warnings::add).withProgress(progress::add), 16);

        assertEquals(List.of("warning: skipping " + bad.toAbsolutePath().normalize() + ": not valid UTF-8 text"), warnings,
                "one warning, even though char reads the corpus twice");
        assertEquals(List.of(bad.toAbsolutePath().normalize()), r.skipped());
        assertEquals("hello there\n\nmore", PrepareTest.decode(TokenDataset.open(out), Split.TRAIN));
        assertEquals(2, r.meta().documents());
        assertEquals(2, r.meta().sources().size());
        assertFalse(r.meta().charVocab().contains((int) 'Z'), "the skipped file's text did not reach the vocabulary either");
        assertTrue(progress.get(progress.size() - 1).endsWith("; skipped 1 file as unreadable or malformed"), progress.toString());

        // Without the option: the same error as ever, naming the file, and nothing written.
        DataException e = assertThrows(DataException.class,
                () -> Prepare.run(PrepareOptions.of(List.of(good, bad, good2), "char", tmp.resolve("o2")), 16));
        assertEquals(bad.toAbsolutePath().normalize() + ": not valid UTF-8 text", e.getMessage());
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of("a-good.txt", "b-bad.txt", "c-good.jsonl", "out"), s.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void skipBadFilesCoversJsonAndGzipAndFailsWhenAllAreBad() throws IOException {
        Path good = TestData.write(tmp.resolve("good.txt"), "fine");
        Path badJson = TestData.write(tmp.resolve("bad.jsonl"), "{\"text\": \"first\"}\n{\"text\": \"broken\n");
        Path badGz = Files.write(tmp.resolve("bad.txt.gz"), utf8("not gzip at all"));
        Path out = tmp.resolve("out");
        List<String> warnings = new ArrayList<>();
        PrepareResult r = Prepare.run(PrepareOptions.of(List.of(badJson, good, badGz), "byte", out).withValFraction(0)
                .withSkipBadFiles(true).withWarnings(warnings::add));
        assertArrayEquals(unsigned(utf8("fine")), tokens(out));
        assertEquals(2, warnings.size());
        assertTrue(warnings.get(0).startsWith("warning: skipping " + badJson.toAbsolutePath().normalize() + ":2: not valid JSON"), warnings.get(0));
        assertTrue(warnings.get(1).startsWith("warning: skipping " + badGz.toAbsolutePath().normalize() + ": cannot read"), warnings.get(1));
        assertEquals(2, r.skipped().size());

        DataException e = assertThrows(DataException.class, () -> Prepare.run(PrepareOptions.of(List.of(badJson, badGz), "byte", tmp.resolve("o2"))
                .withSkipBadFiles(true).withWarnings(w -> {})));
        assertEquals("inputs: all 2 input files were skipped as unreadable or malformed (see the warnings); nothing to prepare", e.getMessage());
        assertFalse(Files.exists(tmp.resolve("o2")));
    }
}
