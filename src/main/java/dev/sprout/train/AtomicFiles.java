package dev.sprout.train;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** Small files, and new folders, written whole or not at all: temporary file (or folder), fsync, rename. */
public final class AtomicFiles {
    private AtomicFiles() {}

    public static void write(Path target, String text) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Fills a folder: the body of {@link #newFolder}. */
    public interface FolderBody {
        void fill(Path dir) throws IOException;
    }

    /**
     * Creates the folder {@code target}, which must not exist, whole or not at all: {@code body} fills a temporary sibling
     * folder, every file in it is forced to disk, and the folder is renamed to {@code target}. If anything fails the
     * temporary folder is deleted and {@code target} never appears.
     */
    public static void newFolder(Path target, FolderBody body) throws IOException {
        Path abs = target.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        Files.createDirectories(parent);
        // createDirectory, not createTempDirectory: the folder keeps the umask's permissions, not owner-only ones
        Path tmp = Files.createDirectory(parent.resolve("." + abs.getFileName() + ".tmp-" + ProcessHandle.current().pid() + "-" + System.nanoTime()));
        try {
            body.fill(tmp);
            List<Path> files;
            try (Stream<Path> s = Files.walk(tmp)) {
                files = s.filter(Files::isRegularFile).toList();
            }
            for (Path f : files) {
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                    ch.force(true);
                }
            }
            if (Files.exists(abs)) throw new IOException(target + " appeared while it was being written");
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
            Checkpoints.fsyncDir(parent);
        } catch (IOException | RuntimeException | Error e) {
            deleteTree(tmp);
            throw e;
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: the temporary folder is hidden and named as such
        }
    }
}
