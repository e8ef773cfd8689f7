package dev.sprout.config;

/** A configuration the user wrote is unusable; the message is one line that names the key. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }
}
