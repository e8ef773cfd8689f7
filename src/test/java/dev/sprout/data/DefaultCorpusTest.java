package dev.sprout.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DefaultCorpusTest {
    @TempDir
    Path tmp;

    @Test
    void materializesCappedBodiesAndPreparesThem() throws Exception {
        Path f = DefaultCorpus.materialize(tmp.resolve("corpus"), 50_000);
        String text = Files.readString(f);
        assertTrue(text.length() > 40_000 && text.length() < 51_000, "length " + text.length());
        assertFalse(text.contains("\t"), "title/date columns must be dropped");
        assertTrue(text.contains("\n\n"), "documents separated by blank lines");
        assertFalse(text.contains("2004-03-30"), "date column leaked");
        assertEquals(f, DefaultCorpus.materialize(tmp.resolve("corpus"), 50_000));

        PrepareResult r = Prepare.run(PrepareOptions.of(List.of(f), "char", tmp.resolve("data")));
        assertTrue(r.meta().vocabSize() > 60, "vocab " + r.meta().vocabSize());
        assertEquals(text.codePointCount(0, text.length()), r.meta().trainTokens() + r.meta().valTokens());
    }
}
