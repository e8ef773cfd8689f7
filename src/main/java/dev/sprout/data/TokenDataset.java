package dev.sprout.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A prepared data folder opened for reading: meta.json plus read-only memory-mapped token shards. Reads are
 * stateless, so one instance may be shared by several threads.
 */
public final class TokenDataset {
    private final Path dir;
    private final DataMeta meta;
    private final SplitData[] splits = new SplitData[Split.values().length];
    private volatile Tokenizer tokenizer;

    /** The shards of one split, concatenated: {@code starts[i]} is the global index of shard i's first token. */
    private record SplitData(long[] starts, ShortBuffer[] u16, IntBuffer[] u32, long tokens) {}

    private TokenDataset(Path dir, DataMeta meta) {
        this.dir = dir;
        this.meta = meta;
    }

    /** Opens and checks a data folder; shard sizes are always checked, checksums are not (see the overload). */
    public static TokenDataset open(Path dir) {
        return open(dir, false);
    }

    /**
     * @param verify also recompute every shard's sha256 (reads all data; worth it after copying a folder around)
     */
    public static TokenDataset open(Path dir, boolean verify) {
        if (!Files.exists(dir)) throw new DataException(dir + ": data folder not found (create it with `sprout prepare`)");
        if (!Files.isDirectory(dir)) throw new DataException(dir + ": not a folder; expected a data folder written by `sprout prepare`");
        DataMeta meta = DataMeta.read(dir.resolve(DataMeta.FILE_NAME));
        TokenDataset ds = new TokenDataset(dir, meta);
        for (Split s : Split.values()) ds.splits[s.ordinal()] = ds.map(s, verify);
        return ds;
    }

    private SplitData map(Split split, boolean verify) {
        List<DataMeta.Shard> shards = meta.shards(split);
        int width = meta.bytesPerToken();
        long[] starts = new long[shards.size()];
        ShortBuffer[] u16 = new ShortBuffer[shards.size()];
        IntBuffer[] u32 = new IntBuffer[shards.size()];
        long total = 0;
        for (int i = 0; i < shards.size(); i++) {
            DataMeta.Shard s = shards.get(i);
            Path file = dir.resolve(s.file());
            if (!Files.isRegularFile(file)) throw new DataException(file + ": shard missing (listed in meta.json)");
            long expected = s.tokens() * width;
            long found;
            try {
                found = Files.size(file);
            } catch (IOException e) {
                throw new DataException(file + ": cannot read shard (" + e.getMessage() + ")", e);
            }
            if (found != expected) {
                throw new DataException(file + ": " + (found < expected ? "truncated" : "too long") + ": expected " + expected
                        + " bytes (" + s.tokens() + " " + meta.dtype() + " tokens), found " + found);
            }
            if (expected > Integer.MAX_VALUE) {
                throw new DataException(file + ": shard of " + expected + " bytes is too large to map; re-run prepare with smaller shard_tokens");
            }
            if (verify) verify(file, s.sha256());
            ByteBuffer bytes = mapReadOnly(file, expected).order(ByteOrder.LITTLE_ENDIAN);
            if (width == 2) u16[i] = bytes.asShortBuffer(); else u32[i] = bytes.asIntBuffer();
            starts[i] = total;
            total += s.tokens();
        }
        return new SplitData(starts, u16, u32, total);
    }

    private static ByteBuffer mapReadOnly(Path file, long size) {
        // The mapping outlives the channel; it is released when the buffer is garbage collected.
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
        } catch (IOException e) {
            throw new DataException(file + ": cannot map shard (" + e.getMessage() + ")", e);
        }
    }

    private static void verify(Path file, String expected) {
        String found;
        try {
            found = Prepare.sha256(file);
        } catch (IOException e) {
            throw new DataException(file + ": cannot read shard (" + e.getMessage() + ")", e);
        }
        if (!found.equalsIgnoreCase(expected)) {
            throw new DataException(file + ": sha256 mismatch: expected " + expected + ", found " + found + " (corrupt shard; re-run prepare)");
        }
    }

    public Path dir() {
        return dir;
    }

    public DataMeta meta() {
        return meta;
    }

    public int vocabSize() {
        return meta.vocabSize();
    }

    /** The tokenizer the folder was prepared with (built on first use: gpt2's ranks and an hf tokenizer take a moment to load). */
    public Tokenizer tokenizer() {
        Tokenizer t = tokenizer;
        if (t == null) tokenizer = t = Tokenizers.fromMeta(meta, dir);
        return t;
    }

    public long tokens(Split split) {
        return splits[split.ordinal()].tokens();
    }

    public int token(Split split, long index) {
        SplitData d = splits[split.ordinal()];
        Objects.checkIndex(index, d.tokens());
        int s = shardOf(d, index);
        int local = (int) (index - d.starts()[s]);
        return d.u16()[s] != null ? Short.toUnsignedInt(d.u16()[s].get(local)) : d.u32()[s].get(local);
    }

    /** Copies tokens [start, start + n) of {@code split} into {@code dst[dstOffset..]}; the range may span shards. */
    public void read(Split split, long start, int n, long[] dst, int dstOffset) {
        SplitData d = splits[split.ordinal()];
        Objects.checkFromIndexSize(start, n, d.tokens());
        Objects.checkFromIndexSize(dstOffset, n, dst.length);
        if (n == 0) return;
        int s = shardOf(d, start);
        long pos = start;
        int done = 0;
        short[] s16 = null;
        while (done < n) {
            long shardEnd = s + 1 < d.starts().length ? d.starts()[s + 1] : d.tokens();
            int local = (int) (pos - d.starts()[s]);
            int len = (int) Math.min(n - done, shardEnd - pos);
            if (d.u16()[s] != null) {
                // Bulk absolute get (no shared position, so thread-safe), then widen.
                if (s16 == null) s16 = new short[Math.min(n, 8192)];
                for (int k = 0; k < len; ) {
                    int m = Math.min(s16.length, len - k);
                    d.u16()[s].get(local + k, s16, 0, m);
                    for (int j = 0; j < m; j++) dst[dstOffset + done + k + j] = Short.toUnsignedInt(s16[j]);
                    k += m;
                }
            } else {
                IntBuffer b = d.u32()[s];
                for (int k = 0; k < len; k++) dst[dstOffset + done + k] = Integer.toUnsignedLong(b.get(local + k));
            }
            done += len;
            pos += len;
            s++;
        }
    }

    private static int shardOf(SplitData d, long index) {
        int i = Arrays.binarySearch(d.starts(), index);
        if (i >= 0) {
            // Skip empty shards that share a start with the next one.
            while (i + 1 < d.starts().length && d.starts()[i + 1] == index) i++;
            return i;
        }
        return -i - 2;
    }

    @Override
    public String toString() {
        return String.format("%s (%s, vocab %d, %,d train + %,d val tokens)", dir, meta.tokenizer(), meta.vocabSize(),
                tokens(Split.TRAIN), tokens(Split.VAL));
    }
}
