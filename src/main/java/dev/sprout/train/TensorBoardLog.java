package dev.sprout.train;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A run's curves for TensorBoard: {@code events.out.tfevents.<unix seconds>.<hostname>} in the run folder, one event per
 * optimizer step with the scalars of that step's metrics.jsonl row (so the two never disagree), tagged with the row's
 * keys. Buffered, flushed after every evaluation and at least every {@link #FLUSH_EVERY_S} seconds, so a TensorBoard
 * watching the folder follows a run live.
 *
 * <p>Every session of a run (a resume, too) writes a new file; TensorBoard reads a folder's files in name order and
 * lets the later value of a step win, so steps that a crash left after the checkpoint, trained again, show once.
 */
public final class TensorBoardLog implements AutoCloseable {
    /** The metrics row's keys that become curves, in the order written; a key the row lacks is left out of that step. */
    static final List<String> SCALARS = List.of("loss", "val_loss", "lr", "grad_norm", "tokens_per_s", "mfu", "active_fraction", "step_ms", "comm_ms");
    /** The curve of a numeric stage label ("1", "2", ...); named labels ("1-new", "full") have none. */
    static final String STAGE_INDEX = "stage_index";
    static final String FILE_PREFIX = "events.out.tfevents.";
    static final long FLUSH_EVERY_S = 2;

    private final Path file;
    private final OutputStream out;
    private final LongSupplier nanoClock;
    private long lastFlush;
    private boolean closed;

    private TensorBoardLog(Path file, OutputStream out, LongSupplier nanoClock) {
        this.file = file;
        this.out = out;
        this.nanoClock = nanoClock;
    }

    /** Starts a new events file in {@code runDir}, its first event (the file version) already on disk. */
    public static TensorBoardLog open(Path runDir) throws IOException {
        return open(runDir, System::nanoTime);
    }

    /** {@link #open(Path)} with the clock that paces flushes (tests pass their own). */
    static TensorBoardLog open(Path runDir, LongSupplier nanoClock) throws IOException {
        long millis = System.currentTimeMillis();
        String name = FILE_PREFIX + millis / 1000 + "." + hostname();
        Path file = runDir.resolve(name);
        OutputStream raw;
        // a session resumed within the same second gets a suffix: later in name order, as TensorBoard reads them
        for (int n = 1; ; n++) {
            try {
                raw = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                break;
            } catch (FileAlreadyExistsException e) {
                file = runDir.resolve(name + "." + n);
            }
        }
        TensorBoardLog log = new TensorBoardLog(file, new BufferedOutputStream(raw, 1 << 16), nanoClock);
        log.append(TfEvents.fileVersion(millis / 1e3));
        log.flush();
        return log;
    }

    public Path file() {
        return file;
    }

    /** One metrics row as one event at its step; flushed when it holds an evaluation or the last flush is a while ago. */
    public void write(JsonNode row) {
        Map<String, Float> values = new LinkedHashMap<>();
        for (String key : SCALARS) {
            JsonNode v = row.get(key);
            if (v != null && v.isNumber()) values.put(key, (float) v.asDouble());
        }
        JsonNode stage = row.get("stage");
        if (stage != null && stage.asText().matches("\\d{1,9}")) values.put(STAGE_INDEX, Float.parseFloat(stage.asText()));
        append(TfEvents.scalars(System.currentTimeMillis() / 1e3, row.get("step").asLong(), values));
        if (row.has("val_loss") || nanoClock.getAsLong() - lastFlush >= TimeUnit.SECONDS.toNanos(FLUSH_EVERY_S)) flush();
    }

    private void append(byte[] event) {
        try {
            out.write(TfEvents.record(event));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void flush() {
        try {
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        lastFlush = nanoClock.getAsLong();
    }

    /** This machine's name as TensorBoard's writers put it in file names, reduced to characters safe in one. */
    static String hostname() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = System.getenv().getOrDefault("HOSTNAME", "localhost");
        }
        String safe = host.replaceAll("[^A-Za-z0-9._-]", "_");
        return safe.isEmpty() ? "localhost" : safe;
    }

    @Override
    public void close() throws IOException {
        if (closed) return;
        closed = true;
        out.close();
    }
}
