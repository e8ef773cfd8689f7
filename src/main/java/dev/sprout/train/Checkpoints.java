package dev.sprout.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Checkpoint files in the safetensors layout (8-byte header length, JSON header, raw little-endian tensors),
 * so Python's safetensors can read them. The header's {@code __metadata__} holds the trainer state as JSON
 * ({@code sprout_state}) and a SHA-256 over that state and all tensor bytes ({@code sha256}).
 *
 * <p>Writes are atomic: a temporary file in the same folder, fsync, rename, fsync of the folder. The newest
 * {@code keep} checkpoints are kept; an older one is deleted only after a newer one is complete.
 */
public final class Checkpoints {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern NAME = Pattern.compile("ckpt-(\\d{8})\\.safetensors");

    /** A loaded checkpoint: CPU tensors by name and the trainer state. */
    public record Loaded(Path file, Map<String, Tensor> tensors, ObjectNode state) {}

    private final Path dir;
    private final int keep;

    public Checkpoints(Path dir, int keep) {
        this.dir = dir;
        this.keep = keep;
    }

    public Path dir() {
        return dir;
    }

    public static Path fileFor(Path dir, long step) {
        return dir.resolve(String.format("ckpt-%08d.safetensors", step));
    }

    /** Checkpoint files, newest step first. */
    public List<Path> list() {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> NAME.matcher(p.getFileName().toString()).matches())
                    .sorted((a, b) -> b.getFileName().toString().compareTo(a.getFileName().toString())).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static long stepOf(Path file) {
        Matcher m = NAME.matcher(file.getFileName().toString());
        if (!m.matches()) throw new IllegalArgumentException(file.toString());
        return Long.parseLong(m.group(1));
    }

    /** Writes the checkpoint for {@code step} atomically, then prunes old ones. Tensors may live on any device. */
    public Path save(long step, Map<String, Tensor> tensors, ObjectNode state) throws IOException {
        Files.createDirectories(dir);
        Path target = fileFor(dir, step);
        Path tmp = dir.resolve(target.getFileName() + ".tmp");
        Map<String, Tensor> cpu = new LinkedHashMap<>();
        tensors.forEach((k, t) -> cpu.put(k, t.detach().cpu().contiguous()));
        String stateJson = JSON.writeValueAsString(state);

        MessageDigest sha = sha256();
        sha.update(stateJson.getBytes(StandardCharsets.UTF_8));
        ObjectNode header = JSON.createObjectNode();
        ObjectNode meta = header.putObject("__metadata__");
        long offset = 0;
        for (var e : cpu.entrySet()) {
            Tensor t = e.getValue();
            ObjectNode info = header.putObject(e.getKey());
            info.put("dtype", dtypeName(t));
            var shape = info.putArray("shape");
            for (long dim : t.sizes().vec().get()) shape.add(dim);
            long n = t.nbytes();
            info.putArray("data_offsets").add(offset).add(offset + n);
            offset += n;
            sha.update(bytes(t));
        }
        meta.put("format", "pt");
        meta.put("sprout_state", stateJson);
        meta.put("sha256", HexFormat.of().formatHex(sha.digest()));
        byte[] head = JSON.writeValueAsBytes(header);
        int padded = (head.length + 7) / 8 * 8;
        ByteBuffer prefix = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        prefix.putLong(padded).put(head);
        while (prefix.position() < prefix.capacity()) prefix.put((byte) ' ');
        prefix.flip();

        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            writeFully(ch, prefix);
            for (Tensor t : cpu.values()) writeFully(ch, bytes(t));
            ch.force(true);
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        fsyncDir(dir);
        prune();
        return target;
    }

    /** Loads and verifies one checkpoint file; truncation and corruption are reported as such. */
    public static Loaded load(Path file) {
        if (!Files.isRegularFile(file)) throw new CheckpointException("checkpoint not found: " + file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new CheckpointException("checkpoint " + file + " is truncated (" + size + " bytes)");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long headerLen = lenBuf.flip().getLong();
            if (headerLen <= 0 || 8 + headerLen > size) throw new CheckpointException("checkpoint " + file + " is truncated or corrupt (header of " + headerLen + " bytes in a file of " + size + ")");
            ByteBuffer headBuf = ByteBuffer.allocate((int) headerLen);
            readFully(ch, headBuf, 8);
            JsonNode header;
            try {
                header = JSON.readTree(new String(headBuf.array(), StandardCharsets.UTF_8).trim());
            } catch (IOException e) {
                throw new CheckpointException("checkpoint " + file + " is corrupt (unreadable header)");
            }
            JsonNode meta = header.get("__metadata__");
            if (meta == null || !meta.has("sprout_state") || !meta.has("sha256")) throw new CheckpointException("checkpoint " + file + " is not a Sprout checkpoint (no sprout_state)");
            String stateJson = meta.get("sprout_state").asText();
            MessageDigest sha = sha256();
            sha.update(stateJson.getBytes(StandardCharsets.UTF_8));
            long dataStart = 8 + headerLen;
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            var fields = header.fields();
            while (fields.hasNext()) {
                var e = fields.next();
                if (e.getKey().equals("__metadata__")) continue;
                JsonNode info = e.getValue();
                long begin = info.get("data_offsets").get(0).asLong(), end = info.get("data_offsets").get(1).asLong();
                if (dataStart + end > size) throw new CheckpointException("checkpoint " + file + " is truncated (tensor " + e.getKey() + " ends at byte " + (dataStart + end) + ", file has " + size + ")");
                List<Long> shape = new ArrayList<>();
                info.get("shape").forEach(n -> shape.add(n.asLong()));
                Tensor t = torch.empty(shape.stream().mapToLong(Long::longValue).toArray(),
                        new org.bytedeco.pytorch.TensorOptions().dtype(new org.bytedeco.pytorch.ScalarTypeOptional(scalarType(info.get("dtype").asText(), file))),
                        new org.bytedeco.pytorch.MemoryFormatOptional());
                if (t.nbytes() != end - begin) throw new CheckpointException("checkpoint " + file + " is corrupt (tensor " + e.getKey() + " has " + (end - begin) + " bytes for its shape)");
                ByteBuffer dst = bytes(t);
                readFully(ch, dst, dataStart + begin);
                dst.flip();
                sha.update(dst);
                tensors.put(e.getKey(), t);
            }
            String digest = HexFormat.of().formatHex(sha.digest());
            if (!digest.equals(meta.get("sha256").asText())) throw new CheckpointException("checkpoint " + file + " is corrupt (checksum mismatch)");
            return new Loaded(file, tensors, (ObjectNode) JSON.readTree(stateJson));
        } catch (IOException e) {
            throw new CheckpointException("cannot read checkpoint " + file + ": " + e.getMessage());
        }
    }

    /** The newest checkpoint that loads and verifies; damaged newer ones are reported to {@code warn} and skipped. */
    public Loaded latestIntact(java.util.function.Consumer<String> warn) {
        for (Path file : list()) {
            try {
                return load(file);
            } catch (CheckpointException e) {
                warn.accept("warning: " + e.getMessage() + "; trying an older checkpoint");
            }
        }
        return null;
    }

    /** Copies the checkpoint's tensor {@code name} into {@code dst}, checking the shape. Call under NoGradGuard. */
    public static void copyInto(Loaded ck, String name, Tensor dst) {
        Tensor src = ck.tensors().get(name);
        if (src == null) throw new CheckpointException("checkpoint " + ck.file() + " lacks tensor " + name);
        long[] have = src.sizes().vec().get(), want = dst.sizes().vec().get();
        if (!java.util.Arrays.equals(have, want)) {
            throw new CheckpointException("checkpoint " + ck.file() + ": tensor " + name + " has shape " + java.util.Arrays.toString(have)
                    + ", the model expects " + java.util.Arrays.toString(want));
        }
        dst.copy_(src);
    }

    private void prune() throws IOException {
        List<Path> all = list();
        for (int i = keep; i < all.size(); i++) Files.deleteIfExists(all.get(i));
    }

    /** A direct view of the tensor's bytes (CPU, contiguous). */
    private static ByteBuffer bytes(Tensor t) {
        return new BytePointer(t.data_ptr()).capacity(t.nbytes()).asByteBuffer();
    }

    private static String dtypeName(Tensor t) {
        String st = String.valueOf(t.scalar_type()); // JavaCPP returns fresh enum wrappers: compare names
        return switch (st) {
            case "Float" -> "F32";
            case "Long" -> "I64";
            case "Byte" -> "U8";
            case "BFloat16" -> "BF16";
            default -> throw new IllegalArgumentException("unsupported checkpoint dtype " + st);
        };
    }

    private static torch.ScalarType scalarType(String name, Path file) {
        return switch (name) {
            case "F32" -> torch.ScalarType.Float;
            case "I64" -> torch.ScalarType.Long;
            case "U8" -> torch.ScalarType.Byte;
            case "BF16" -> torch.ScalarType.BFloat16;
            default -> throw new CheckpointException("checkpoint " + file + " has unsupported dtype " + name);
        };
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            int n = ch.read(b, pos);
            if (n < 0) throw new IOException("unexpected end of file");
            pos += n;
        }
    }

    static void fsyncDir(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException ignored) {
            // some file systems cannot open a directory for sync; the rename is still atomic there
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
