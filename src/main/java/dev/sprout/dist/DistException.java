package dev.sprout.dist;

/** A data-parallel job that cannot start or go on: a bad environment, a lost peer, ranks that disagree. One line. */
public final class DistException extends RuntimeException {
    public DistException(String message) {
        super(message);
    }

    public DistException(String message, Throwable cause) {
        super(message, cause);
    }
}
