package dev.sprout.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sprout.tensor.Safetensors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;

/**
 * Checkpoint files in the safetensors layout ({@link Safetensors}: 8-byte header length, JSON header, raw little-endian tensors),
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
        for (Tensor t : cpu.values()) sha.update(Safetensors.bytes(t));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("sprout_state", stateJson);
        meta.put("sha256", HexFormat.of().formatHex(sha.digest()));
        Safetensors.write(tmp, cpu, meta);
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
            Safetensors.Header header = Safetensors.readHeader(ch);
            Map<String, String> meta = header.metadata();
            if (!meta.containsKey("sprout_state") || !meta.containsKey("sha256")) throw new CheckpointException("checkpoint " + file + " is not a Sprout checkpoint (no sprout_state)");
            String stateJson = meta.get("sprout_state");
            MessageDigest sha = sha256();
            sha.update(stateJson.getBytes(StandardCharsets.UTF_8));
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (Safetensors.Entry e : header.entries().values()) {
                Tensor t = Safetensors.read(ch, header, e);
                sha.update(Safetensors.bytes(t));
                tensors.put(e.name(), t);
            }
            String digest = HexFormat.of().formatHex(sha.digest());
            if (!digest.equals(meta.get("sha256"))) throw new CheckpointException("checkpoint " + file + " is corrupt (checksum mismatch)");
            return new Loaded(file, tensors, (ObjectNode) JSON.readTree(stateJson));
        } catch (Safetensors.FormatException e) {
            throw new CheckpointException("checkpoint " + file + " " + e.getMessage());
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
