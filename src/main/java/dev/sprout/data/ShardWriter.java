package dev.sprout.data;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Appends the token stream to numbered part files of at most {@code shardTokens} little-endian tokens each. Prepare
 * later renames (and splits one of) these parts into train and val shards, because the train/val boundary is only
 * known once the whole stream has been counted.
 */
final class ShardWriter implements Closeable {
    /** A finished part file. */
    record Part(Path file, long tokens) {}

    private final Path dir;
    private final int bytesPerToken;
    private final long shardTokens;
    private final int vocabSize;
    private final ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
    private final List<Part> parts = new ArrayList<>();

    private FileChannel out;
    private Path current;
    private long inCurrent;
    private long total;

    ShardWriter(Path dir, int bytesPerToken, long shardTokens, int vocabSize) {
        this.dir = dir;
        this.bytesPerToken = bytesPerToken;
        this.shardTokens = shardTokens;
        this.vocabSize = vocabSize;
    }

    void write(int[] tokens) throws IOException {
        for (int t : tokens) {
            if (t < 0 || t >= vocabSize) throw new IllegalStateException("token " + t + " outside vocabulary of " + vocabSize);
            if (out == null || inCurrent == shardTokens) startPart();
            if (buf.remaining() < bytesPerToken) flush();
            if (bytesPerToken == 2) buf.putShort((short) t); else buf.putInt(t);
            inCurrent++;
            total++;
        }
    }

    long total() {
        return total;
    }

    /** Closes the last part and returns all parts in stream order. */
    List<Part> finish() throws IOException {
        closePart();
        return List.copyOf(parts);
    }

    private void startPart() throws IOException {
        closePart();
        current = dir.resolve(String.format("part-%05d.bin", parts.size()));
        out = FileChannel.open(current, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        inCurrent = 0;
    }

    private void closePart() throws IOException {
        if (out == null) return;
        flush();
        out.close();
        out = null;
        parts.add(new Part(current, inCurrent));
    }

    private void flush() throws IOException {
        buf.flip();
        while (buf.hasRemaining()) out.write(buf);
        buf.clear();
    }

    @Override
    public void close() throws IOException {
        if (out != null) out.close();
        out = null;
    }
}
