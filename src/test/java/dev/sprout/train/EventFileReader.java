package dev.sprout.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads TensorBoard event files without any of the writer's code: TFRecord framing with both checksums verified by a
 * CRC32C computed here bit by bit, and the Event, Summary and Summary.Value protobufs decoded by hand from their wire
 * format (event.proto and summary.proto field numbers). What it accepts, TensorBoard's loader accepts.
 */
final class EventFileReader {
    /** An event: its wall time, step, and either the file version or the scalars of its summary (tag to value). */
    record Event(double wallTime, long step, String fileVersion, Map<String, Float> scalars) {}

    /** A record whose length or data does not match its checksum, or a protobuf that does not parse. */
    static final class CorruptFile extends IOException {
        CorruptFile(String m) {
            super(m);
        }
    }

    private EventFileReader() {}

    static List<Event> read(Path file) throws IOException {
        return read(Files.readAllBytes(file));
    }

    static List<Event> read(byte[] b) throws CorruptFile {
        List<Event> events = new ArrayList<>();
        int pos = 0;
        while (pos < b.length) {
            if (b.length - pos < 12) throw new CorruptFile("truncated record header at byte " + pos);
            long length = littleEndian(b, pos, 8);
            if (maskedCrc(b, pos, 8) != (int) littleEndian(b, pos + 8, 4)) throw new CorruptFile("length CRC mismatch at byte " + pos);
            int data = pos + 12;
            if (length < 0 || data + length + 4 > b.length) throw new CorruptFile("truncated record data at byte " + pos);
            if (maskedCrc(b, data, (int) length) != (int) littleEndian(b, data + (int) length, 4)) throw new CorruptFile("data CRC mismatch at byte " + pos);
            events.add(event(b, data, data + (int) length));
            pos = data + (int) length + 4;
        }
        return events;
    }

    /** CRC32C (Castagnoli, reflected polynomial 0x82F63B78), one bit at a time. */
    static int crc32c(byte[] b, int off, int len) {
        int crc = ~0;
        for (int i = off; i < off + len; i++) {
            crc ^= b[i] & 0xFF;
            for (int k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0x82F63B78 & -(crc & 1));
        }
        return ~crc;
    }

    private static int maskedCrc(byte[] b, int off, int len) {
        int c = crc32c(b, off, len);
        return (int) ((((c & 0xFFFFFFFFL) >>> 15 | (c & 0xFFFFFFFFL) << 17) + 0xa282ead8L) & 0xFFFFFFFFL);
    }

    private static long littleEndian(byte[] b, int off, int n) {
        long v = 0;
        for (int i = n - 1; i >= 0; i--) v = v << 8 | (b[off + i] & 0xFF);
        return v;
    }

    private static Event event(byte[] b, int from, int to) throws CorruptFile {
        double wallTime = 0;
        long step = 0;
        String version = null;
        Map<String, Float> scalars = new LinkedHashMap<>();
        Wire w = new Wire(b, from, to);
        while (w.more()) {
            long key = w.varint();
            int field = (int) (key >>> 3), type = (int) (key & 7);
            switch (field) {
                case 1 -> wallTime = Double.longBitsToDouble(w.expect(type, 1).fixed(8));
                case 2 -> step = w.expect(type, 0).varint();
                case 3 -> version = new String(w.expect(type, 2).bytes(), StandardCharsets.UTF_8);
                case 5 -> summary(w.expect(type, 2).bytes(), scalars);
                default -> w.skip(type);
            }
        }
        return new Event(wallTime, step, version, scalars);
    }

    private static void summary(byte[] b, Map<String, Float> scalars) throws CorruptFile {
        Wire w = new Wire(b, 0, b.length);
        while (w.more()) {
            long key = w.varint();
            if (key >>> 3 != 1) {
                w.skip((int) (key & 7));
                continue;
            }
            byte[] value = w.expect((int) (key & 7), 2).bytes();
            Wire v = new Wire(value, 0, value.length);
            String tag = null;
            Float simple = null;
            while (v.more()) {
                long k = v.varint();
                int field = (int) (k >>> 3), type = (int) (k & 7);
                if (field == 1) tag = new String(v.expect(type, 2).bytes(), StandardCharsets.UTF_8);
                else if (field == 2) simple = Float.intBitsToFloat((int) v.expect(type, 5).fixed(4));
                else v.skip(type);
            }
            if (tag == null || simple == null) throw new CorruptFile("a Summary.Value without tag or simple_value");
            scalars.put(tag, simple);
        }
    }

    /** A cursor over protobuf wire format. */
    private static final class Wire {
        private final byte[] b;
        private int pos;
        private final int end;

        Wire(byte[] b, int from, int to) {
            this.b = b;
            this.pos = from;
            this.end = to;
        }

        boolean more() {
            return pos < end;
        }

        Wire expect(int type, int wanted) throws CorruptFile {
            if (type != wanted) throw new CorruptFile("wire type " + type + " where " + wanted + " belongs");
            return this;
        }

        long varint() throws CorruptFile {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (pos >= end) throw new CorruptFile("varint runs past the message");
                int x = b[pos++] & 0xFF;
                v |= (long) (x & 0x7F) << shift;
                if ((x & 0x80) == 0) return v;
            }
            throw new CorruptFile("varint longer than 10 bytes");
        }

        long fixed(int n) throws CorruptFile {
            if (end - pos < n) throw new CorruptFile("fixed" + 8 * n + " runs past the message");
            long v = littleEndian(b, pos, n);
            pos += n;
            return v;
        }

        byte[] bytes() throws CorruptFile {
            long n = varint();
            if (n < 0 || n > end - pos) throw new CorruptFile("length-delimited field runs past the message");
            byte[] out = java.util.Arrays.copyOfRange(b, pos, pos + (int) n);
            pos += (int) n;
            return out;
        }

        void skip(int type) throws CorruptFile {
            switch (type) {
                case 0 -> varint();
                case 1 -> fixed(8);
                case 2 -> bytes();
                case 5 -> fixed(4);
                default -> throw new CorruptFile("unknown wire type " + type);
            }
        }
    }
}
