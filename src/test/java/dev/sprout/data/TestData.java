package dev.sprout.data;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/** Small corpora and data folders for the data tests. */
final class TestData {
    private TestData() {}

    static Path write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        return Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    static Path writeGz(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }
        return file;
    }

    /** Prepares {@code text} as a single document with the char tokenizer. */
    static TokenDataset charDataset(Path tmp, String text, double valFraction, long shardTokens) throws IOException {
        Path in = write(tmp.resolve("in").resolve("corpus.txt"), text);
        Path out = tmp.resolve("data");
        Prepare.run(PrepareOptions.of(List.of(in), "char", out).withValFraction(valFraction).withShardTokens(shardTokens));
        return TokenDataset.open(out, true);
    }

    /** A deterministic pseudo-text of {@code n} chars with a rich token stream (so windows are distinguishable). */
    static String text(int n) {
        StringBuilder sb = new StringBuilder(n);
        long s = 42;
        while (sb.length() < n) {
            s = s * 6364136223846793005L + 1442695040888963407L;
            int r = (int) ((s >>> 33) % 40);
            sb.append(r < 26 ? (char) ('a' + r) : r < 36 ? (char) ('0' + r - 26) : r < 39 ? ' ' : '\n');
        }
        return sb.toString();
    }

    static long[] all(TokenDataset ds, Split split) {
        long[] t = new long[(int) ds.tokens(split)];
        ds.read(split, 0, t.length, t, 0);
        return t;
    }
}
