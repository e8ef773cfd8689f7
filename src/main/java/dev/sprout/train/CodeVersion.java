package dev.sprout.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * A fingerprint of the code this process runs: SHA-256 of Sprout's jar, or of every file under its classes folder
 * (names and bytes, in order). Ranks of a job compare it, so a job never mixes builds.
 */
final class CodeVersion {
    private static String cached;

    private CodeVersion() {}

    static synchronized String current() {
        if (cached == null) cached = compute();
        return cached;
    }

    private static String compute() {
        try {
            Path where = Path.of(CodeVersion.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            if (Files.isRegularFile(where)) {
                sha.update(Files.readAllBytes(where));
            } else {
                List<Path> files;
                try (Stream<Path> s = Files.walk(where)) {
                    files = s.filter(Files::isRegularFile).sorted().toList();
                }
                for (Path f : files) {
                    sha.update(where.relativize(f).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    sha.update(Files.readAllBytes(f));
                }
            }
            return HexFormat.of().formatHex(sha.digest(), 0, 8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException | NoSuchAlgorithmException | SecurityException e) {
            return "unknown";
        }
    }
}
