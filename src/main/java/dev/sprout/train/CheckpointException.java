package dev.sprout.train;

/** A checkpoint is missing, truncated, corrupt or does not fit the run; the message names the file. */
public final class CheckpointException extends RuntimeException {
    public CheckpointException(String message) {
        super(message);
    }
}
