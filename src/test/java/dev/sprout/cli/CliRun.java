package dev.sprout.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs the CLI in-process, capturing what it prints; asserts the shape of user errors. */
public final class CliRun {
    private CliRun() {}

    public record Outcome(int code, String out, String err) {}

    public static synchronized Outcome run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = Sprout.execute(args);
            return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    /** Exit code 2 and exactly one line, "error: ...", that contains {@code expected}. */
    public static void assertUserError(Outcome o, String expected) {
        assertEquals(Sprout.USER_ERROR, o.code(), o.err());
        assertTrue(o.err().startsWith("error: "), o.err());
        assertTrue(o.err().contains(expected), "expected '" + expected + "' in: " + o.err());
        assertEquals(1, o.err().strip().lines().count(), "one line, no stack trace: " + o.err());
    }
}
