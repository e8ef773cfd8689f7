package dev.sprout.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A new folder appears whole or not at all. */
class AtomicFilesTest {
    @TempDir
    Path tmp;

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aFolderAppearsWholeOrNotAtAll() throws IOException {
        Path out = tmp.resolve("out");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.newFolder(out, dir -> {
            Files.writeString(dir.resolve("a.json"), "{}");
            throw new IOException("disk full");
        }));
        assertEquals("disk full", e.getMessage());
        assertEquals(List.of(), names(), "neither the folder nor its temporary copy is left");

        AtomicFiles.newFolder(out, dir -> {
            Files.writeString(dir.resolve("a.json"), "{}");
            Files.createDirectories(dir.resolve("sub"));
            Files.writeString(dir.resolve("sub").resolve("b.txt"), "b");
        });
        assertEquals(List.of("out"), names());
        assertEquals("b", Files.readString(out.resolve("sub").resolve("b.txt")));
        assertThrows(IOException.class, () -> AtomicFiles.newFolder(out, dir -> {}));
        assertEquals(List.of("out"), names());
        assertFalse(Files.exists(out.resolve("sub").resolve("c")));
    }
}
