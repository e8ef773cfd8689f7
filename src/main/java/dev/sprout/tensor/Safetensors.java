package dev.sprout.tensor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * The safetensors file layout, plain: an 8-byte little-endian header length, a JSON header (padded with spaces to a
 * multiple of 8 bytes) that maps each tensor's name to its dtype, shape and byte range, an optional string map
 * {@code __metadata__}, then the raw little-endian tensor bytes, one after another in header order. Sprout's checkpoints
 * and Hugging Face model folders both use it; each adds its own metadata and its own error wording.
 */
public final class Safetensors {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Safetensors() {}

    /** The file does not hold what its header says; the message is a predicate, e.g. "is truncated (...)". */
    public static final class FormatException extends RuntimeException {
        public FormatException(String predicate) {
            super(predicate);
        }
    }

    /**
     * One tensor of a header.
     *
     * @param dtype the safetensors dtype name (F32, F16, BF16, F64, I64, U8, BOOL, ...)
     * @param begin start of its bytes, relative to the data section
     * @param end   end of its bytes (exclusive), relative to the data section
     */
    public record Entry(String name, String dtype, long[] shape, long begin, long end) {}

    /**
     * A parsed header.
     *
     * @param entries   the tensors in header order
     * @param metadata  {@code __metadata__}'s strings (empty when absent), in header order
     * @param dataStart the file offset of the data section
     */
    public record Header(Map<String, Entry> entries, Map<String, String> metadata, long dataStart) {}

    /**
     * Writes the tensors (CPU and contiguous) with the metadata (null for none) to {@code file}, created or truncated,
     * and forces it to disk. Not atomic by itself: callers write a temporary file (or folder) and rename it.
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (var e : tensors.entrySet()) {
            Tensor t = e.getValue();
            if (!t.is_contiguous() || !t.device().is_cpu()) throw new IllegalArgumentException(e.getKey() + ": tensors are written from contiguous CPU memory");
            ObjectNode info = header.putObject(e.getKey());
            info.put("dtype", dtypeName(t));
            var shape = info.putArray("shape");
            for (long dim : t.sizes().vec().get()) shape.add(dim);
            long n = t.nbytes();
            info.putArray("data_offsets").add(offset).add(offset + n);
            offset += n;
        }
        byte[] head = JSON.writeValueAsBytes(header);
        int padded = (head.length + 7) / 8 * 8;
        ByteBuffer prefix = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        prefix.putLong(padded).put(head);
        while (prefix.position() < prefix.capacity()) prefix.put((byte) ' ');
        prefix.flip();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            writeFully(ch, prefix);
            for (Tensor t : tensors.values()) writeFully(ch, bytes(t));
            ch.force(true);
        }
    }

    /** Reads and checks the header of an open file: its length, its JSON, and that every tensor lies inside the file. */
    public static Header readHeader(FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < 8) throw new FormatException("is truncated (" + size + " bytes)");
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0);
        long headerLen = lenBuf.flip().getLong();
        if (headerLen <= 0 || headerLen > Integer.MAX_VALUE || 8 + headerLen > size) {
            throw new FormatException("is truncated or corrupt (header of " + headerLen + " bytes in a file of " + size + ")");
        }
        ByteBuffer headBuf = ByteBuffer.allocate((int) headerLen);
        readFully(ch, headBuf, 8);
        JsonNode header;
        try {
            header = JSON.readTree(new String(headBuf.array(), StandardCharsets.UTF_8).trim());
        } catch (IOException e) {
            throw new FormatException("is corrupt (unreadable header)");
        }
        if (header == null || !header.isObject()) throw new FormatException("is corrupt (unreadable header)");
        long dataStart = 8 + headerLen;
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (var it = header.fields(); it.hasNext(); ) {
            var e = it.next();
            JsonNode info = e.getValue();
            if (e.getKey().equals("__metadata__")) {
                info.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            JsonNode offsets = info.path("data_offsets"), shapeNode = info.path("shape");
            if (!info.path("dtype").isTextual() || !shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2) {
                throw new FormatException("is corrupt (tensor " + e.getKey() + " lacks dtype, shape or data_offsets)");
            }
            long begin = offsets.get(0).asLong(), end = offsets.get(1).asLong();
            if (begin < 0 || end < begin) throw new FormatException("is corrupt (tensor " + e.getKey() + " has data_offsets [" + begin + ", " + end + "])");
            if (dataStart + end > size) {
                throw new FormatException("is truncated (tensor " + e.getKey() + " ends at byte " + (dataStart + end) + ", file has " + size + ")");
            }
            long[] shape = new long[shapeNode.size()];
            for (int i = 0; i < shape.length; i++) shape[i] = shapeNode.get(i).asLong();
            entries.put(e.getKey(), new Entry(e.getKey(), info.get("dtype").asText(), shape, begin, end));
        }
        return new Header(Collections.unmodifiableMap(entries), Collections.unmodifiableMap(metadata), dataStart);
    }

    /** Reads one tensor of the header, in its file dtype (see {@link #scalarType}), as a new CPU tensor. */
    public static Tensor read(FileChannel ch, Header h, Entry e) throws IOException {
        torch.ScalarType st = scalarType(e.dtype());
        if (st == null) throw new FormatException("has unsupported dtype " + e.dtype());
        Tensor t = torch.empty(e.shape(), new TensorOptions().dtype(new ScalarTypeOptional(st)), new MemoryFormatOptional());
        if (t.nbytes() != e.end() - e.begin()) throw new FormatException("is corrupt (tensor " + e.name() + " has " + (e.end() - e.begin()) + " bytes for its shape)");
        readFully(ch, bytes(t), h.dataStart() + e.begin());
        return t;
    }

    /** A direct view of a CPU contiguous tensor's bytes. */
    public static ByteBuffer bytes(Tensor t) {
        return new BytePointer(t.data_ptr()).capacity(t.nbytes()).asByteBuffer();
    }

    /** The safetensors name of a tensor's dtype. */
    public static String dtypeName(Tensor t) {
        String st = String.valueOf(t.scalar_type()); // JavaCPP returns fresh enum wrappers: compare names
        return switch (st) {
            case "Float" -> "F32";
            case "Double" -> "F64";
            case "Half" -> "F16";
            case "BFloat16" -> "BF16";
            case "Long" -> "I64";
            case "Int" -> "I32";
            case "Byte" -> "U8";
            case "Bool" -> "BOOL";
            default -> throw new IllegalArgumentException("unsupported safetensors dtype " + st);
        };
    }

    /** The libtorch type of a safetensors dtype name, or null for one Sprout does not read. */
    public static torch.ScalarType scalarType(String name) {
        return switch (name) {
            case "F32" -> torch.ScalarType.Float;
            case "F64" -> torch.ScalarType.Double;
            case "F16" -> torch.ScalarType.Half;
            case "BF16" -> torch.ScalarType.BFloat16;
            case "I64" -> torch.ScalarType.Long;
            case "I32" -> torch.ScalarType.Int;
            case "U8" -> torch.ScalarType.Byte;
            case "BOOL" -> torch.ScalarType.Bool;
            default -> null;
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
}
