package dev.sprout.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;

/**
 * What a new run's folder held before the command, so that a run that fails before its first checkpoint can leave it as
 * it was: the folder removed if the command made it, else only the entries the command added. A corrected command then
 * starts cleanly instead of being refused because the folder "already holds a run".
 */
final class RunFolderRollback {
    private final Path run;
    private final boolean existed;
    private final Set<Path> before = new HashSet<>();

    RunFolderRollback(Path run) throws IOException {
        this.run = run;
        this.existed = Files.isDirectory(run);
        if (existed) {
            try (Stream<Path> s = Files.list(run)) {
                s.forEach(p -> before.add(p.getFileName()));
            }
        }
    }

    /** Removes what the command added (best effort: a file another process holds open is left, and said). */
    void undo(java.io.PrintStream console) {
        try {
            if (!Files.exists(run)) return;
            if (!existed) {
                deleteTree(run);
                return;
            }
            try (Stream<Path> s = Files.list(run)) {
                for (Path p : s.toList()) if (!before.contains(p.getFileName())) deleteTree(p);
            }
        } catch (IOException e) {
            console.println("warning: could not remove what the failed run wrote in " + run + ": " + e.getMessage());
        }
    }

    private static void deleteTree(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }
}
