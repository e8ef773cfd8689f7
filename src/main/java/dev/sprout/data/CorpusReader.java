package dev.sprout.data;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PushbackInputStream;
import java.io.Reader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * Streams the documents of a list of corpus files as bounded-size text chunks, so memory stays proportional to one
 * chunk (or one JSONL line) rather than to the corpus. A document is a text/markdown file (or, with a separator, each
 * part of one), a JSONL line's "text", or an element of a JSON array. Empty documents are skipped.
 *
 * <p>In byte mode (the byte tokenizer) chunks are byte strings, one char per byte (0..255, as ISO-8859-1 decodes):
 * a text file's raw bytes whatever its encoding, a JSON document's UTF-8. Chunking, the cap and the separator then
 * count and cut bytes with the same code.
 */
final class CorpusReader {
    /** Receives every chunk in corpus order; {@code startsDocument} marks the first chunk of each document. */
    interface Sink {
        void chunk(String text, boolean startsDocument, Path source);
    }

    /**
     * What was read: documents and chars (UTF-16 units; bytes in byte mode) delivered, whether the char cap cut the
     * corpus short, the files that contributed text, and those skipped as bad.
     */
    record Stats(long documents, long chars, boolean capped, List<Path> used, List<Path> skipped) {}

    static final int DEFAULT_CHUNK_CHARS = 1 << 20;
    private static final byte[] UTF8_BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
    // Documents can be long: lift Jackson's default 20 M-char string limit. Trailing tokens would mean two objects on
    // one JSONL line, which is a malformed file rather than something to silently half-read.
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE).build())
            .build());
    private static final ObjectReader JSON_LINE = JSON.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final List<Path> files;
    private final long maxChars;
    private final int chunkChars;
    private final boolean bytes;
    private final Pattern separator;
    private final Consumer<String> skipWarnings;
    // With skipping on: files checked in full so far, so that later passes neither check nor warn again.
    private final Set<Path> good = new HashSet<>();
    private final Set<Path> bad = new LinkedHashSet<>();

    private Sink sink;
    private long documents;
    private long chars;
    private boolean capped;
    private List<Path> used;

    CorpusReader(List<Path> files, long maxChars, int chunkChars) {
        this(files, maxChars, chunkChars, false, null, null);
    }

    /**
     * @param bytes        byte mode (see the class comment)
     * @param separator    splits text files into documents before each line it finds a match in; null for none
     * @param skipWarnings with a bad file (unreadable, bad UTF-8, bad JSON), receives one "warning: ..." line and the
     *                     file is skipped; null makes a bad file fail the read
     */
    CorpusReader(List<Path> files, long maxChars, int chunkChars, boolean bytes, Pattern separator, Consumer<String> skipWarnings) {
        if (chunkChars < 2) throw new IllegalArgumentException("chunkChars must be >= 2");
        this.files = List.copyOf(files);
        this.maxChars = maxChars;
        this.chunkChars = chunkChars;
        this.bytes = bytes;
        this.separator = separator;
        this.skipWarnings = skipWarnings;
    }

    /** Reads the whole corpus (or up to maxChars) once; may be called again for a second identical pass. */
    Stats read(Sink sink) {
        this.sink = sink;
        documents = 0;
        chars = 0;
        capped = false;
        used = new ArrayList<>();
        for (Path f : files) {
            if (capped) break;
            if (skipWarnings != null && !check(f)) continue;
            readFile(f);
        }
        if (!bad.isEmpty() && bad.size() == files.size()) {
            throw new DataException("inputs: " + (files.size() == 1 ? "the input file was" : "all " + files.size() + " input files were")
                    + " skipped as unreadable or malformed (see the warnings); nothing to prepare");
        }
        return new Stats(documents, chars, capped, List.copyOf(used), List.copyOf(bad));
    }

    /**
     * Skipping is all or nothing: a dry run reads the file in full (up to the cap, exactly as the real read will)
     * into a sink that drops everything, so a file that fails midway has delivered nothing. Costs one more read of
     * each file, never more memory.
     */
    private boolean check(Path f) {
        if (good.contains(f)) return true;
        if (bad.contains(f)) return false;
        Sink real = sink;
        long d = documents, c = chars;
        boolean cap = capped;
        int u = used.size();
        sink = (text, start, src) -> {};
        try {
            readFile(f);
            good.add(f);
            return true;
        } catch (DataException e) {
            bad.add(f);
            skipWarnings.accept("warning: skipping " + e.getMessage());
            return false;
        } finally {
            sink = real;
            documents = d;
            chars = c;
            capped = cap;
            while (used.size() > u) used.remove(used.size() - 1);
        }
    }

    private void readFile(Path f) {
        try {
            switch (InputFiles.format(f)) {
                case TEXT -> readText(f);
                case JSONL -> readJsonLines(f);
                case JSON -> readJson(f);
            }
        } catch (CharacterCodingException e) {
            throw new DataException(f + ": not valid UTF-8 text", e);
        } catch (IOException e) {
            throw new DataException(f + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private void readText(Path f) throws IOException {
        try (Reader r = openText(f)) {
            TextDocuments docs = new TextDocuments(f);
            char[] buf = new char[64 * 1024];
            int n;
            while ((n = r.read(buf)) > 0) {
                if (!docs.append(buf, n)) return;
            }
            docs.finish();
        }
    }

    /**
     * Cuts one text file into chunks of at most chunkChars and, with a separator, into documents: each line in which
     * the separator finds a match (tested without its newline) starts a new document. Holds at most about two chunks:
     * a line longer than a chunk is never a separator (whether or not its end has been read), so it can be passed on
     * before its end is seen.
     */
    private final class TextDocuments {
        private final Path file;
        private final StringBuilder pending = new StringBuilder();
        private int head;               // pending[0, head) is passed on; compacted away once per append
        private boolean start = true;   // the next chunk starts a document
        private int checked;            // pending[head, checked) holds only lines already tested against the separator
        private boolean longLine;       // the line at checked outgrew a chunk: not a separator

        TextDocuments(Path file) {
            this.file = file;
        }

        /** Takes the next n chars of the file; false once the cap is reached. */
        boolean append(char[] buf, int n) {
            pending.append(buf, 0, n);
            if (separator != null) {
                int nl;
                while ((nl = pending.indexOf("\n", checked)) >= 0) {
                    if (!longLine && nl - checked <= chunkChars && isSeparator(checked, nl) && !endDocument(checked)) return false;
                    longLine = false;
                    checked = nl + 1;
                }
                if (pending.length() - checked > chunkChars) {
                    longLine = true;
                    checked = pending.length();
                }
            }
            // Whole chunks of the current document; with a separator only of lines already tested.
            while (pending.length() - head > chunkChars && (separator == null || checked - head > chunkChars)) {
                if (!pass(Chunking.cut(pending, head, chunkChars))) return false;
            }
            pending.delete(0, head);
            checked = Math.max(0, checked - head);
            head = 0;
            return true;
        }

        /** At the end of the file: its last line, if it has no newline, may be a separator too. */
        void finish() {
            if (separator != null && !longLine && checked < pending.length() && isSeparator(checked, pending.length())) {
                if (!endDocument(checked)) return;
            }
            endDocument(pending.length());
        }

        /** Passes on pending[head, end) as the rest of the current document; the next chunk starts a new one. */
        private boolean endDocument(int end) {
            while (end - head > chunkChars) {
                if (!pass(Chunking.cut(pending, head, chunkChars))) return false;
            }
            if (end > head && !pass(end)) return false;
            start = true;
            return true;
        }

        /** Passes on pending[head, to). */
        private boolean pass(int to) {
            String piece = pending.substring(head, to);
            head = to;
            boolean more = emit(piece, start, file);
            start = false;
            return more;
        }

        private boolean isSeparator(int from, int to) {
            String line = pending.substring(from, to);
            // In byte mode the line is bytes: it is matched as UTF-8 text (invalid bytes read as U+FFFD).
            if (bytes) line = new String(line.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
            return separator.matcher(line).find();
        }
    }

    private void readJsonLines(Path f) throws IOException {
        try (BufferedReader r = new BufferedReader(open(f))) {
            readJsonLines(f, r);
        }
    }

    private void readJsonLines(Path f, BufferedReader r) throws IOException {
        String line;
        long lineNo = 0;
        while ((line = r.readLine()) != null) {
            lineNo++;
            if (line.isBlank()) continue;
            JsonNode node;
            try {
                node = JSON_LINE.readTree(line);
            } catch (JsonProcessingException e) {
                throw new DataException(f + ":" + lineNo + ": not valid JSON (" + e.getOriginalMessage() + ")");
            }
            String text = textOf(node, f + ":" + lineNo);
            if (!document(text, f)) return;
        }
    }

    /**
     * A .json file is either one JSON array of documents, or a sequence of top-level objects: JSON Lines (as many
     * datasets name them) or a single pretty-printed object.
     */
    private void readJson(Path f) throws IOException {
        try (Reader r = open(f); JsonParser p = JSON.getFactory().createParser(r)) {
            JsonToken t = p.nextToken();
            boolean array = t == JsonToken.START_ARRAY;
            if (array) t = p.nextToken();
            long index = 0;
            while (t != null && !(array && t == JsonToken.END_ARRAY)) {
                String where = f + ":" + p.currentTokenLocation().getLineNr() + (array ? ": element " + index : "");
                JsonNode node = p.readValueAsTree();
                if (!document(textOf(node, where), f)) return;
                index++;
                t = p.nextToken();
            }
            if (array && t == null) throw new DataException(f + ": unexpected end of file inside the JSON array");
        } catch (JsonProcessingException e) {
            String line = e.getLocation() == null ? "" : ":" + e.getLocation().getLineNr();
            throw new DataException(f + line + ": not valid JSON (" + e.getOriginalMessage() + ")");
        }
    }

    private static String textOf(JsonNode node, String where) {
        if (node != null && node.isTextual()) return node.textValue();
        if (node == null || !node.isObject()) throw new DataException(where + ": expected a JSON object with a \"text\" field");
        JsonNode text = node.get("text");
        if (text == null || !text.isTextual()) {
            throw new DataException(where + ": expected a string field \"text\", found " + (text == null ? "none" : text.getNodeType().toString().toLowerCase()));
        }
        return text.textValue();
    }

    /** Emits one in-memory document in chunks; false once the char cap is reached. */
    private boolean document(String text, Path f) {
        if (bytes) text = new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
        int pos = 0;
        boolean start = true;
        while (text.length() - pos > chunkChars) {
            int cut = Chunking.cut(text, pos, chunkChars);
            if (!emit(text.substring(pos, cut), start, f)) return false;
            start = false;
            pos = cut;
        }
        return pos == text.length() || emit(text.substring(pos), start, f);
    }

    /** Delivers a chunk, cutting it at the char cap; returns false when reading must stop. */
    private boolean emit(String piece, boolean start, Path f) {
        if (piece.isEmpty()) return true;
        long room = maxChars - chars;
        if (piece.length() <= room) {
            deliver(piece, start, f);
            return true;
        }
        int end = (int) room;
        if (end > 0 && Character.isHighSurrogate(piece.charAt(end - 1))) end--;
        if (end > 0) deliver(piece.substring(0, end), start, f);
        capped = true;
        return false;
    }

    private void deliver(String piece, boolean start, Path f) {
        if (start) documents++;
        if (used.isEmpty() || !used.get(used.size() - 1).equals(f)) used.add(f);
        chars += piece.length();
        sink.chunk(piece, start, f);
    }

    /** A JSON file: always UTF-8. */
    private static Reader open(Path f) throws IOException {
        return utf8(openStream(f));
    }

    /** A text file, a leading UTF-8 byte-order mark dropped (an encoding artefact, not text): bytes or UTF-8. */
    private Reader openText(Path f) throws IOException {
        InputStream in = openStream(f);
        try {
            PushbackInputStream pb = new PushbackInputStream(in, UTF8_BOM.length);
            in = pb;
            byte[] head = pb.readNBytes(UTF8_BOM.length);
            if (!Arrays.equals(head, UTF8_BOM)) pb.unread(head);
        } catch (IOException e) {
            in.close();
            throw e;
        }
        return bytes ? new InputStreamReader(in, StandardCharsets.ISO_8859_1) : utf8(in);
    }

    private static InputStream openStream(Path f) throws IOException {
        InputStream in = Files.newInputStream(f);
        try {
            if (InputFiles.isGzip(f)) in = new GZIPInputStream(in, 1 << 16);
        } catch (IOException e) {
            in.close();
            throw e;
        }
        return in;
    }

    private static Reader utf8(InputStream in) {
        // REPORT, not REPLACE: silently training on mojibake is worse than a clear error naming the file.
        return new InputStreamReader(in, StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT));
    }
}
