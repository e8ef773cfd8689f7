package dev.sprout.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The package layout is the architecture: lower layers never reach higher ones and no two packages depend on each other.
 * Each package may name only the packages listed for it here (imports and fully qualified names in src/main).
 */
class LayeringTest {
    static final Map<String, Set<String>> ALLOWED = Map.ofEntries(
            Map.entry("tensor", Set.of()),
            Map.entry("config", Set.of()),
            Map.entry("data", Set.of()),
            Map.entry("subnet", Set.of()),
            Map.entry("dist", Set.of()),
            Map.entry("optim", Set.of("config", "tensor")),
            Map.entry("model", Set.of("config", "subnet", "tensor")),
            Map.entry("method", Set.of("config", "model", "optim", "subnet", "tensor")),
            Map.entry("report", Set.of("config")),
            Map.entry("hf", Set.of("config", "tensor")),
            Map.entry("train", Set.of("config", "data", "dist", "hf", "method", "model", "optim", "subnet", "tensor")),
            Map.entry("cli", Set.of("config", "data", "dist", "hf", "method", "model", "optim", "report", "subnet", "tensor", "train")));

    private static final Pattern REF = Pattern.compile("dev\\.sprout\\.([a-z]+)\\.");

    @Test
    void packagesNameOnlyTheLayersBelowThem() throws IOException {
        Path root = Path.of("src/main/java/dev/sprout");
        List<String> violations = new ArrayList<>();
        Set<String> packages = new TreeSet<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String pkg = root.relativize(f).getName(0).toString();
                packages.add(pkg);
                Set<String> allowed = ALLOWED.get(pkg);
                assertTrue(allowed != null, "package " + pkg + " has no place in the layering (LayeringTest.ALLOWED)");
                Matcher m = REF.matcher(Files.readString(f));
                while (m.find()) {
                    String used = m.group(1);
                    if (!used.equals(pkg) && !allowed.contains(used)) violations.add(root.relativize(f) + " names dev.sprout." + used);
                }
            }
        }
        assertEquals(ALLOWED.keySet(), packages, "every package is placed, and every placed package exists");
        assertEquals(List.of(), violations);
    }
}
