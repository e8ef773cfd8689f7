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
import java.io.Reader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Streams the documents of a list of corpus files as bounded-size text chunks, so memory stays proportional to one
 * chunk (or one JSONL line) rather than to the corpus. A document is a text/markdown file, a JSONL line's "text", or
 * an element of a JSON array. Empty documents are skipped.
 */
final class CorpusReader {
    /** Receives every chunk in corpus order; {@code startsDocument} marks the first chunk of each document. */
    interface Sink {
        void chunk(String text, boolean startsDocument, Path source);
    }

    /**
     * What was read: documents and chars (UTF-16 units) delivered, whether the char cap cut the corpus short, and
     * the files that contributed text.
     */
    record Stats(long documents, long chars, boolean capped, List<Path> used) {}

    static final int DEFAULT_CHUNK_CHARS = 1 << 20;
    // Documents can be long: lift Jackson's default 20 M-char string limit. Trailing tokens would mean two objects on
    // one JSONL line, which is a malformed file rather than something to silently half-read.
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE).build())
            .build());
    private static final ObjectReader JSON_LINE = JSON.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final List<Path> files;
    private final long maxChars;
    private final int chunkChars;

    private Sink sink;
    private long documents;
    private long chars;
    private boolean capped;
    private List<Path> used;

    CorpusReader(List<Path> files, long maxChars, int chunkChars) {
        if (chunkChars < 2) throw new IllegalArgumentException("chunkChars must be >= 2");
        this.files = List.copyOf(files);
        this.maxChars = maxChars;
        this.chunkChars = chunkChars;
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
        return new Stats(documents, chars, capped, List.copyOf(used));
    }

    private void readText(Path f) throws IOException {
        try (Reader r = open(f)) {
            char[] buf = new char[64 * 1024];
            StringBuilder pending = new StringBuilder();
            boolean start = true;
            int n;
            while ((n = r.read(buf)) > 0) {
                int off = 0;
                // A byte-order mark is an encoding artefact, not text.
                if (start && pending.length() == 0 && buf[0] == '\uFEFF') off = 1;
                pending.append(buf, off, n - off);
                while (pending.length() > chunkChars) {
                    int cut = Chunking.cut(pending, 0, chunkChars);
                    String piece = pending.substring(0, cut);
                    pending.delete(0, cut);
                    if (!emit(piece, start, f)) return;
                    start = false;
                }
            }
            if (pending.length() > 0) emit(pending.toString(), start, f);
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

    private static Reader open(Path f) throws IOException {
        InputStream in = Files.newInputStream(f);
        try {
            if (InputFiles.isGzip(f)) in = new GZIPInputStream(in, 1 << 16);
        } catch (IOException e) {
            in.close();
            throw e;
        }
        // REPORT, not REPLACE: silently training on mojibake is worse than a clear error naming the file.
        return new InputStreamReader(in, StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT));
    }
}

