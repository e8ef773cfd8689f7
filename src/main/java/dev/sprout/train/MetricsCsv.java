package dev.sprout.train;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * metrics.csv: metrics.jsonl for spreadsheets. One header with every key a row can have, in a fixed order (the keys
 * every row has first, then the optional ones), and one line per row with the row's JSON values; a key the row lacks is
 * an empty cell. Written only through {@link MetricsLog}, which hands it the same rows.
 */
final class MetricsCsv implements AutoCloseable {
    /** Every key of a metrics row. A new key must be added here, or it would be left out of the spreadsheet. */
    static final List<String> COLUMNS = List.of("step", "tokens", "flops", "wall_s", "loss", "lr", "grad_norm", "step_ms",
            "tokens_per_s", "mfu", "val_loss", "stage", "active_fraction", "comm_ms", "comm_bytes");

    private final BufferedWriter out;

    private MetricsCsv(BufferedWriter out) {
        this.out = out;
    }

    /**
     * Opens for appending after rewriting the file from {@code rows}, the rows metrics.jsonl kept: a resumed run's
     * spreadsheet then holds exactly the steps metrics.jsonl holds (none a crash left past the checkpoint, no line cut
     * short by a kill), and a run started before metrics.csv existed gets its earlier steps too.
     */
    static MetricsCsv open(Path file, List<JsonNode> rows) throws IOException {
        List<String> lines = new ArrayList<>(rows.size() + 1);
        lines.add(String.join(",", COLUMNS));
        for (JsonNode row : rows) lines.add(line(row));
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, lines, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return new MetricsCsv(Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND));
    }

    void write(JsonNode row) {
        try {
            out.write(line(row));
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A row's cells in {@link #COLUMNS} order: numbers as JSON writes them, text quoted where CSV needs it. */
    static String line(JsonNode row) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < COLUMNS.size(); i++) {
            if (i > 0) b.append(',');
            JsonNode v = row.get(COLUMNS.get(i));
            if (v == null || v.isNull()) continue;
            String text = v.asText();
            if (v.isTextual() && (text.contains(",") || text.contains("\"") || text.contains("\n") || text.contains("\r"))) {
                text = '"' + text.replace("\"", "\"\"") + '"';
            }
            b.append(text);
        }
        return b.toString();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
