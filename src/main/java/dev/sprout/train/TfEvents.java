package dev.sprout.train;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * TensorBoard's event-file format, written by hand: the few protobuf fields of tensorflow/core/util/event.proto and
 * tensorflow/core/framework/summary.proto that scalar curves need, each framed as a TFRecord. A protobuf library would
 * bring a dependency for about a dozen bytes of encoding per value.
 *
 * <pre>
 * Event         { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
 * Summary       { repeated Value value = 1; }
 * Summary.Value { string tag = 1; float simple_value = 2; }
 * record        = uint64 length | uint32 masked_crc32c(length) | data | uint32 masked_crc32c(data)   (little-endian)
 * </pre>
 */
final class TfEvents {
    /** What TensorBoard expects in a file's first event: the version of the records that follow. */
    static final String FILE_VERSION = "brain.Event:2";

    // protobuf wire types
    private static final int VARINT = 0, FIXED64 = 1, LENGTH_DELIMITED = 2, FIXED32 = 5;

    private TfEvents() {}

    /** The first event of a file: its wall time and {@link #FILE_VERSION}. */
    static byte[] fileVersion(double wallTime) {
        Proto event = new Proto();
        event.fixed64(1, Double.doubleToRawLongBits(wallTime));
        event.bytes(3, FILE_VERSION.getBytes(StandardCharsets.UTF_8));
        return event.toByteArray();
    }

    /** One step's scalars, tag by tag in the map's order, as one event. */
    static byte[] scalars(double wallTime, long step, Map<String, Float> values) {
        Proto summary = new Proto();
        for (var e : values.entrySet()) {
            Proto value = new Proto();
            value.bytes(1, e.getKey().getBytes(StandardCharsets.UTF_8));
            value.fixed32(2, Float.floatToRawIntBits(e.getValue()));
            summary.bytes(1, value.toByteArray());
        }
        Proto event = new Proto();
        event.fixed64(1, Double.doubleToRawLongBits(wallTime));
        if (step != 0) event.varint(2, step); // proto3 leaves a zero out
        event.bytes(5, summary.toByteArray());
        return event.toByteArray();
    }

    /** {@code data} framed as a TFRecord: its length and data, each followed by its masked CRC32C. */
    static byte[] record(byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(8 + 4 + data.length + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(data.length);
        b.putInt(maskedCrc32c(b.array(), 0, 8));
        b.put(data);
        b.putInt(maskedCrc32c(data, 0, data.length));
        return b.array();
    }

    /**
     * TFRecord's checksum: CRC32C rotated right by 15 bits plus a constant, so that a CRC over data that itself holds
     * CRCs stays strong (int arithmetic wraps mod 2^32, as the format wants).
     */
    static int maskedCrc32c(byte[] data, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(data, offset, length);
        int c = (int) crc.getValue();
        return ((c >>> 15) | (c << 17)) + 0xa282ead8;
    }

    /** A protobuf message under construction: fields appended in the order written. */
    private static final class Proto {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        void varint(int field, long v) {
            key(field, VARINT);
            rawVarint(v);
        }

        void fixed64(int field, long bits) {
            key(field, FIXED64);
            for (int i = 0; i < 8; i++) out.write((int) (bits >>> (8 * i)));
        }

        void fixed32(int field, int bits) {
            key(field, FIXED32);
            for (int i = 0; i < 4; i++) out.write(bits >>> (8 * i));
        }

        void bytes(int field, byte[] b) {
            key(field, LENGTH_DELIMITED);
            rawVarint(b.length);
            out.writeBytes(b);
        }

        private void key(int field, int wireType) {
            rawVarint((long) field << 3 | wireType);
        }

        private void rawVarint(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) (v & 0x7F) | 0x80);
                v >>>= 7;
            }
            out.write((int) v);
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }
    }
}
