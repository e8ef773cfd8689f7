package dev.sprout.data;

import java.nio.file.Path;

/** Sprout's cache folders: the prepared built-in corpus, and beside it what libraries unpack (DJL's native tokenizers). */
public final class CacheFolders {
    private CacheFolders() {}

    /** Where the built-in corpus is prepared: $SPROUT_DATA_HOME, default ~/.cache/sprout/data. */
    public static Path data() {
        String env = System.getenv("SPROUT_DATA_HOME");
        return env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "sprout", "data");
    }

    /** DJL's cache (the tokenizers library's native code, unpacked from its jar once): a sibling of {@link #data()}. */
    public static Path djl() {
        Path data = data().toAbsolutePath().normalize();
        return data.getParent() == null ? data.resolve("djl") : data.resolveSibling("djl");
    }
}
