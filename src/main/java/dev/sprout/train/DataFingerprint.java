package dev.sprout.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 of a data folder's meta.json, which itself holds every shard's checksum. */
public final class DataFingerprint {
    private DataFingerprint() {}

    public static String of(Path dataDir) {
        try {
            byte[] meta = Files.readAllBytes(dataDir.resolve("meta.json"));
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(meta));
        } catch (IOException e) {
            return "unreadable";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
