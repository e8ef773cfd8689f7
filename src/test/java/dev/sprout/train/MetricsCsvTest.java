package dev.sprout.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sprout.cli.Sprout;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** metrics.csv beside metrics.jsonl: the same rows, kept to the same steps when a run resumes from an earlier checkpoint. */
class MetricsCsvTest {
    @TempDir
    Path tmp;

    /** The columns that do not depend on timing: equal between a resumed and an uninterrupted run. */
    static final List<String> DETERMINISTIC = List.of("step", "tokens", "flops", "loss", "lr", "grad_norm", "val_loss", "stage", "active_fraction");

    static List<String> lines(Path run) throws IOException {
        return Files.readAllLines(run.resolve("metrics.csv"), StandardCharsets.UTF_8);
    }

    /** Each data line as column to cell (no quoting needed for these rows' values). */
    static List<Map<String, String>> cells(Path run) throws IOException {
        List<String> lines = lines(run);
        String[] header = lines.get(0).split(",", -1);
        List<Map<String, String>> rows = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] c = line.split(",", -1);
            assertEquals(header.length, c.length, line);
            Map<String, String> m = new HashMap<>();
            for (int i = 0; i < header.length; i++) m.put(header[i], c[i]);
            rows.add(m);
        }
        return rows;
    }

    /** metrics.csv is metrics.jsonl, row for row, under the fixed header. */
    static void assertMatchesJsonl(Path run) throws IOException {
        List<String> lines = lines(run);
        List<JsonNode> rows = TrainerTest.rows(run);
        assertEquals(String.join(",", MetricsCsv.COLUMNS), lines.get(0));
        assertEquals(rows.size() + 1, lines.size(), "the header and one line per step");
        for (int i = 0; i < rows.size(); i++) {
            assertEquals(MetricsCsv.line(rows.get(i)), lines.get(i + 1), "row " + (i + 1));
            rows.get(i).fieldNames().forEachRemaining(k -> assertTrue(MetricsCsv.COLUMNS.contains(k), "metrics.csv has no column for " + k));
        }
    }

    @Test
    void theHeaderStartsWithTheKeysEveryRowHasAndEmptyCellsStandForAbsentKeys() {
        assertEquals(List.of("step", "tokens", "flops", "wall_s", "loss", "lr", "grad_norm", "step_ms"), MetricsCsv.COLUMNS.subList(0, 8));
        JsonNode row = MetricsLog.JSON.createObjectNode().put("step", 3).put("loss", 2.5).put("lr", 1.0E-4).put("stage", "a,\"b\"");
        assertEquals("3,,,,2.5,1.0E-4,,,,,,\"a,\"\"b\"\"\",,,", MetricsCsv.line(row));
    }

    @Test
    void aRunResumedFromAnEarlierCheckpointHasExactlyTheRowsOfAnUninterruptedOne() throws IOException {
        Path data = TestRuns.shakespeareChars();
        Path cfg = TestRuns.tinyConfig(tmp, "llama");
        String[] est = {"--set", "method.name=est", "--set", "model.n_layer=4"}; // stages and active fractions: every optional column but comm_*
        Path straight = tmp.resolve("straight"), crashed = tmp.resolve("crashed");
        assertEquals(0, Sprout.execute(TrainerTest.train(cfg, data, straight, est)));
        List<String> first = new ArrayList<>(List.of(TrainerTest.train(cfg, data, crashed, est)));
        first.addAll(List.of("--max-steps", "25"));
        assertEquals(0, Sprout.execute(first.toArray(String[]::new)));
        assertEquals(25, cells(crashed).size());
        // as after a crash at step 25 whose checkpoint never landed, mid-way through a metrics.csv line:
        // steps 21-25 must go, since training resumes from step 20
        Files.delete(Checkpoints.fileFor(crashed.resolve("checkpoints"), 25));
        Files.writeString(crashed.resolve("metrics.csv"), "26,6656,1.2", StandardOpenOption.APPEND);
        assertEquals(0, Sprout.execute("train", "--out", crashed.toString(), "--resume"));

        assertMatchesJsonl(straight);
        assertMatchesJsonl(crashed);
        List<Map<String, String>> a = cells(straight), b = cells(crashed);
        assertEquals(40, b.size());
        for (int i = 0; i < 40; i++) {
            for (String col : DETERMINISTIC) assertEquals(a.get(i).get(col), b.get(i).get(col), col + " at step " + (i + 1));
        }
        assertTrue(a.stream().anyMatch(r -> !r.get("active_fraction").isEmpty()) && !a.get(0).get("stage").isEmpty(), "EST fills the optional columns");

        // TensorBoard: the resumed session wrote a second file from step 21 on; read in name order with the later
        // value of a step winning (as TensorBoard does), the curve is the uninterrupted run's
        List<Path> files = TensorBoardLogTest.eventFiles(crashed);
        assertEquals(2, files.size(), files.toString());
        assertEquals(21, EventFileReader.read(files.get(1)).get(1).step());
        Map<Long, Float> loss = new HashMap<>();
        for (Path f : files) for (EventFileReader.Event e : EventFileReader.read(f)) if (e.scalars().containsKey("loss")) loss.put(e.step(), e.scalars().get("loss"));
        assertEquals(40, loss.size());
        List<JsonNode> rows = TrainerTest.rows(straight);
        for (int i = 0; i < 40; i++) assertEquals((float) rows.get(i).get("loss").asDouble(), loss.get(i + 1L), 0f, "step " + (i + 1));
        assertEquals(Float.parseFloat(rows.get(0).get("stage").asText()), EventFileReader.read(files.get(0)).get(1).scalars().get("stage_index"));
    }
}
