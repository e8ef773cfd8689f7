package dev.sprout.data;

/**
 * Data the user pointed us at is unusable (missing folder, corrupt file, bad option). The message is one line that
 * names the offending input, so the CLI can print it without a stack trace.
 */
public final class DataException extends RuntimeException {
    public DataException(String message) {
        super(message);
    }

    public DataException(String message, Throwable cause) {
        super(message, cause);
    }
}
