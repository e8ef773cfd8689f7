package dev.sprout.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Copies a child's output stream to one of ours, one whole line at a time, each line prefixed (e.g. "[rank 1] ").
 * Bytes are passed through untouched, so the child's encoding survives. Every line is written and flushed under a lock
 * shared by all the copiers of a launch, so lines of different ranks, and of stdout and stderr when both go to the
 * same terminal, never interleave mid-line.
 */
final class PrefixedLines implements Runnable {
    private final InputStream from;
    private final byte[] prefix;
    private final PrintStream to;
    private final Object lineLock;

    PrefixedLines(InputStream from, String prefix, PrintStream to, Object lineLock) {
        this.from = from;
        this.prefix = prefix.getBytes(StandardCharsets.UTF_8);
        this.to = to;
        this.lineLock = lineLock;
    }

    @Override
    public void run() {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        byte[] chunk = new byte[8192];
        try (InputStream in = from) {
            int n;
            while ((n = in.read(chunk)) != -1) {
                int start = 0;
                for (int i = 0; i < n; i++) {
                    if (chunk[i] != '\n') continue;
                    line.write(chunk, start, i - start);
                    emit(line);
                    start = i + 1;
                }
                line.write(chunk, start, n - start);
            }
        } catch (IOException e) {
            // The pipe broke: the child is gone. Whatever it had written is printed below.
        }
        if (line.size() > 0) emit(line); // a last line without its newline
    }

    private void emit(ByteArrayOutputStream line) {
        synchronized (lineLock) {
            to.write(prefix, 0, prefix.length);
            to.write(line.toByteArray(), 0, line.size());
            to.write('\n');
            to.flush();
        }
        line.reset();
    }
}
