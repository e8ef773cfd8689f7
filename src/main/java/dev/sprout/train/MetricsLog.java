package dev.sprout.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
 * metrics.jsonl: one JSON object per optimizer step, appended and flushed as it happens; and beside it the same rows
 * as metrics.csv ({@link MetricsCsv}), kept to the same steps.
 */
public final class MetricsLog implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    private final BufferedWriter out;
    private final MetricsCsv csv;

    private MetricsLog(BufferedWriter out, MetricsCsv csv) {
        this.out = out;
        this.csv = csv;
    }

    /**
     * Opens for appending after dropping every row past {@code lastStep} (rows a crash left after the checkpoint);
     * metrics.csv beside it is rewritten from the rows kept.
     */
    public static MetricsLog open(Path file, long lastStep) throws IOException {
        List<JsonNode> keptRows = new ArrayList<>();
        if (Files.exists(file)) {
            List<String> kept = new ArrayList<>();
            boolean dropped = false;
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (line.isBlank()) continue;
                JsonNode row;
                try {
                    row = JSON.readTree(line);
                } catch (IOException e) {
                    dropped = true; // a row cut short by a kill
                    continue;
                }
                if (row.path("step").asLong(Long.MAX_VALUE) <= lastStep) {
                    kept.add(line);
                    keptRows.add(row);
                } else {
                    dropped = true;
                }
            }
            if (dropped) {
                Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
                Files.write(tmp, kept, StandardCharsets.UTF_8);
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
        }
        MetricsCsv csv = MetricsCsv.open(csvBeside(file), keptRows);
        try {
            return new MetricsLog(Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND), csv);
        } catch (IOException | RuntimeException e) {
            csv.close();
            throw e;
        }
    }

    /** metrics.jsonl -> metrics.csv. */
    static Path csvBeside(Path jsonl) {
        String name = jsonl.getFileName().toString();
        return jsonl.resolveSibling((name.endsWith(".jsonl") ? name.substring(0, name.length() - ".jsonl".length()) : name) + ".csv");
    }

    public void write(ObjectNode row) {
        try {
            out.write(JSON.writeValueAsString(row));
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        csv.write(row);
    }

    /** Reads every row of a metrics file (for reports and tests). */
    public static List<JsonNode> read(Path file) throws IOException {
        List<JsonNode> rows = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) if (!line.isBlank()) rows.add(JSON.readTree(line));
        return rows;
    }

    @Override
    public void close() throws IOException {
        try {
            out.close();
        } finally {
            csv.close();
        }
    }
}
