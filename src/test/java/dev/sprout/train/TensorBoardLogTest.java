package dev.sprout.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sprout.cli.Sprout;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TensorBoard event files, read back by {@link EventFileReader}, which shares no code with the writer. */
class TensorBoardLogTest {
    @TempDir
    Path tmp;

    static List<Path> eventFiles(Path run) throws IOException {
        try (Stream<Path> files = Files.list(run)) {
            return files.filter(f -> f.getFileName().toString().startsWith("events.out.tfevents.")).sorted().toList();
        }
    }

    @Test
    void theReadersChecksumIsCrc32c() {
        byte[] check = "123456789".getBytes(StandardCharsets.US_ASCII);
        assertEquals(0xE3069283, EventFileReader.crc32c(check, 0, check.length), "CRC32C's check value (RFC 3720)");
    }

    @Test
    void aTrainingRunsCurvesReadBackStepByStepAsMetricsJsonlHasThem() throws IOException {
        Path data = TestRuns.shakespeareChars();
        Path run = tmp.resolve("run");
        double before = System.currentTimeMillis() / 1e3;
        assertEquals(0, Sprout.execute(TrainerTest.train(TestRuns.tinyConfig(tmp, "gpt2"), data, run, "--set", "train.max_steps=30")));

        List<Path> files = eventFiles(run);
        assertEquals(1, files.size(), "one events file per session: " + files);
        assertTrue(files.get(0).getFileName().toString().matches("events\\.out\\.tfevents\\.\\d{10}\\.[A-Za-z0-9._-]+"), files.get(0).toString());
        List<EventFileReader.Event> events = EventFileReader.read(files.get(0));
        assertEquals("brain.Event:2", events.get(0).fileVersion());
        assertTrue(events.get(0).wallTime() >= Math.floor(before) && events.get(0).wallTime() <= System.currentTimeMillis() / 1e3 + 1);

        List<JsonNode> rows = TrainerTest.rows(run);
        assertEquals(30, rows.size());
        assertEquals(31, events.size(), "the file version, then one event per step");
        for (int i = 0; i < 30; i++) {
            EventFileReader.Event e = events.get(i + 1);
            JsonNode row = rows.get(i);
            assertEquals(i + 1, e.step());
            assertEquals(null, e.fileVersion());
            assertTrue(e.wallTime() >= events.get(i).wallTime(), "wall time runs forward");
            Map<String, Float> s = e.scalars();
            for (String key : List.of("loss", "lr", "grad_norm", "step_ms", "tokens_per_s", "mfu")) {
                assertTrue(s.containsKey(key), "step " + (i + 1) + " lacks " + key + ": " + s.keySet());
                assertEquals((float) row.get(key).asDouble(), s.get(key), 0f, key + " at step " + (i + 1));
            }
            boolean eval = (i + 1) % 10 == 0;
            assertEquals(eval, s.containsKey("val_loss"), "val_loss at the eval steps 10, 20, 30 only (step " + (i + 1) + ")");
            if (eval) assertEquals((float) row.get("val_loss").asDouble(), s.get("val_loss"), 0f);
            for (String absent : List.of("comm_ms", "active_fraction", "stage_index")) assertFalse(s.containsKey(absent), absent + " in a one-process baseline run");
            assertTrue(s.get("mfu") > 0 && s.get("mfu") < 1 && s.get("tokens_per_s") > 0, s.toString());
        }

        // the reader checks what it reads: one flipped bit in a record's data, or in its length, fails its CRC
        byte[] bytes = Files.readAllBytes(files.get(0));
        int second = 12 + (int) lengthAt(bytes, 0) + 4; // where the first step's record starts
        byte[] flippedData = bytes.clone();
        flippedData[second + 12 + 5] ^= 0x01;
        assertTrue(assertThrows(EventFileReader.CorruptFile.class, () -> EventFileReader.read(flippedData)).getMessage().contains("data CRC"));
        byte[] flippedLength = bytes.clone();
        flippedLength[second] ^= 0x01;
        assertTrue(assertThrows(EventFileReader.CorruptFile.class, () -> EventFileReader.read(flippedLength)).getMessage().contains("length CRC"));
    }

    private static long lengthAt(byte[] b, int pos) {
        long v = 0;
        for (int i = 7; i >= 0; i--) v = v << 8 | (b[pos + i] & 0xFF);
        return v;
    }

    @Test
    void noTensorboardWritesNoEventsFile() throws IOException {
        Path data = TestRuns.shakespeareChars();
        Path run = tmp.resolve("quiet");
        assertEquals(0, Sprout.execute(TrainerTest.train(TestRuns.tinyConfig(tmp, "gpt2"), data, run, "--max-steps", "2", "--no-tensorboard")));
        assertEquals(List.of(), eventFiles(run));
        assertEquals(2, TrainerTest.rows(run).size());
        assertTrue(Files.isRegularFile(run.resolve("metrics.csv")), "the switch turns off TensorBoard only");
    }

    /** Buffered between flushes: a step's event reaches the file after an evaluation or once the last flush is old enough. */
    @Test
    void eventsAreFlushedAfterAnEvaluationAndEveryFewSeconds() throws IOException {
        AtomicLong nanos = new AtomicLong();
        long second = 1_000_000_000L;
        try (TensorBoardLog log = TensorBoardLog.open(tmp, nanos::get)) {
            List<EventFileReader.Event> start = EventFileReader.read(log.file());
            assertEquals(1, start.size(), "the file version is on disk at once");
            nanos.set(second);
            log.write(row(1, null));
            assertEquals(1, EventFileReader.read(log.file()).size(), "a step a second after the last flush waits in the buffer");
            nanos.set((TensorBoardLog.FLUSH_EVERY_S + 1) * second);
            log.write(row(2, null));
            assertEquals(3, EventFileReader.read(log.file()).size(), "flushed: the last flush is " + (TensorBoardLog.FLUSH_EVERY_S + 1) + " s ago");
            nanos.addAndGet(second / 10);
            log.write(row(3, 2.5));
            List<EventFileReader.Event> all = EventFileReader.read(log.file());
            assertEquals(4, all.size(), "an evaluation is flushed at once");
            assertEquals(2.5f, all.get(3).scalars().get("val_loss"));
            nanos.addAndGet(second / 10);
            log.write(row(4, null));
        }
        List<Path> files = eventFiles(tmp);
        assertEquals(5, EventFileReader.read(files.get(0)).size(), "closing flushes the rest");
    }

    @Test
    void aSecondFileOpenedInTheSameSecondGetsItsOwnLaterName() throws IOException {
        try (TensorBoardLog a = TensorBoardLog.open(tmp); TensorBoardLog b = TensorBoardLog.open(tmp)) {
            assertFalse(a.file().equals(b.file()));
            assertTrue(a.file().getFileName().toString().compareTo(b.file().getFileName().toString()) < 0, "name order is write order");
        }
    }

    @Test
    void numericStageLabelsBecomeAStageIndexCurve() throws IOException {
        try (TensorBoardLog log = TensorBoardLog.open(tmp)) {
            ObjectNode a = row(1, null).put("stage", "2").put("active_fraction", 0.5).put("comm_ms", 1.5);
            log.write(a);
            log.write(row(2, null).put("stage", "1-new"));
        }
        List<EventFileReader.Event> events = EventFileReader.read(eventFiles(tmp).get(0));
        assertEquals(Map.of("loss", 3.0f, "lr", 1e-3f, "stage_index", 2f, "active_fraction", 0.5f, "comm_ms", 1.5f), events.get(1).scalars());
        assertEquals(Map.of("loss", 3.0f, "lr", 1e-3f), events.get(2).scalars(), "a named stage has no index");
    }

    private static ObjectNode row(long step, Double val) {
        ObjectNode r = MetricsLog.JSON.createObjectNode().put("step", step).put("loss", 3.0).put("lr", 1e-3);
        if (val != null) r.put("val_loss", val);
        return r;
    }
}
