package dev.sprout.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/** Expands the input paths of a prepare run into the ordered list of corpus files. */
final class InputFiles {
    /** How a file's documents are laid out. */
    enum Format { TEXT, JSONL, JSON }

    private static final List<String> EXTENSIONS = List.of(".txt", ".md", ".jsonl", ".json");

    private InputFiles() {}

    /**
     * Files are taken as given; folders are walked recursively for *.txt, *.md, *.jsonl, *.json (optionally .gz),
     * skipping hidden entries and anything under {@code exclude} (the output folder). Each folder's files are sorted
     * by path so the token stream does not depend on directory order; the inputs themselves keep the user's order.
     */
    static List<Path> collect(List<Path> inputs, Path exclude) {
        if (inputs == null || inputs.isEmpty()) throw new DataException("inputs: no input files or folders given");
        Path excluded = exclude == null ? null : exclude.toAbsolutePath().normalize();
        Set<Path> seen = new LinkedHashSet<>();
        for (Path input : inputs) {
            Path abs = input.toAbsolutePath().normalize();
            if (Files.isRegularFile(abs)) {
                seen.add(abs);
            } else if (Files.isDirectory(abs)) {
                List<Path> found = walk(abs, excluded);
                if (found.isEmpty()) {
                    throw new DataException(input + ": folder has no .txt, .md, .jsonl or .json files (plain or .gz)");
                }
                seen.addAll(found);
            } else {
                throw new DataException(input + ": input not found");
            }
        }
        return new ArrayList<>(seen);
    }

    private static List<Path> walk(Path dir, Path excluded) {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> !p.equals(dir))
                    .filter(p -> excluded == null || !p.startsWith(excluded))
                    .filter(p -> !isHiddenBelow(dir, p))
                    .filter(Files::isRegularFile)
                    .filter(p -> hasCorpusExtension(p.getFileName().toString()))
                    .sorted()
                    .toList();
        } catch (IOException | UncheckedIOException e) {
            throw new DataException(dir + ": cannot list folder (" + e.getMessage() + ")", e);
        }
    }

    // Only names below the input folder count: an input that itself lives under a dot-folder is still read.
    private static boolean isHiddenBelow(Path root, Path p) {
        for (Path part : root.relativize(p)) if (part.toString().startsWith(".")) return true;
        return false;
    }

    static boolean hasCorpusExtension(String name) {
        String n = stripGz(name.toLowerCase(Locale.ROOT));
        return EXTENSIONS.stream().anyMatch(n::endsWith);
    }

    static boolean isGzip(Path p) {
        return p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gz");
    }

    /** Explicitly named files with other extensions are read as plain text. */
    static Format format(Path p) {
        String n = stripGz(p.getFileName().toString().toLowerCase(Locale.ROOT));
        if (n.endsWith(".jsonl")) return Format.JSONL;
        if (n.endsWith(".json")) return Format.JSON;
        return Format.TEXT;
    }

    private static String stripGz(String n) {
        return n.endsWith(".gz") ? n.substring(0, n.length() - 3) : n;
    }
}
