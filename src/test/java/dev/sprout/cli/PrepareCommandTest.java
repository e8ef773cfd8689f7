package dev.sprout.cli;

import static dev.sprout.cli.CliRun.assertUserError;
import static dev.sprout.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What `sprout prepare` prints for the byte tokenizer, --separator and --skip-bad-files. */
class PrepareCommandTest {
    @TempDir
    Path tmp;

    static String lastLine(String s) {
        String[] lines = s.strip().split("\n");
        return lines[lines.length - 1];
    }

    @Test
    void byteTokenizerReportsBytes() throws IOException {
        Path a = Files.writeString(tmp.resolve("a.txt"), "abc");
        Path b = Files.write(tmp.resolve("b.txt"), new byte[] {'c', 'a', 'f', (byte) 0xE9});  // Latin-1
        CliRun.Outcome o = run("prepare", "--input", a.toString(), b.toString(), "--tokenizer", "byte", "--out", tmp.resolve("d").toString(),
                "--val-fraction", "0");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("prepare: 2 documents, 7 bytes -> 9 train + 0 val tokens"), o.out());
        assertTrue(lastLine(o.out()).contains("9 train and 0 val tokens (7 bytes read + 2 of blank lines between the 2 documents) in "), o.out());
        assertFalse(o.out().contains("chars"), o.out());
    }

    @Test
    void skipBadFilesWarnsOnceAndCountsTheSkipped() throws IOException {
        Path good = Files.writeString(tmp.resolve("good.txt"), "hello");
        Path bad = Files.write(tmp.resolve("bad.txt"), new byte[] {'c', 'a', 'f', (byte) 0xE9});
        String[] args = {"prepare", "--input", good.toString(), bad.toString(), "--tokenizer", "char", "--out", tmp.resolve("d").toString()};
        assertUserError(run(args), bad + ": not valid UTF-8 text");
        assertFalse(Files.exists(tmp.resolve("d")));

        String[] skipping = java.util.Arrays.copyOf(args, args.length + 1);
        skipping[args.length] = "--skip-bad-files";
        CliRun.Outcome o = run(skipping);
        assertEquals(0, o.code(), o.err());
        assertEquals("warning: skipping " + bad + ": not valid UTF-8 text", o.err().strip());
        assertTrue(lastLine(o.out()).contains("4 train and 1 val tokens, 1 bad file skipped in "), o.out());
    }

    @Test
    void badSeparatorIsOneErrorLineAndHelpDescribesTheOptions() {
        Path d = tmp.resolve("d");
        assertUserError(run("prepare", "--input", tmp.toString(), "--tokenizer", "byte", "--out", d.toString(), "--separator", "(["),
                "separator: '([' is not a valid regular expression");
        CliRun.Outcome help = run("prepare", "--help");
        String text = help.out().replaceAll("\\s+", " ");
        assertTrue(text.contains("--separator=REGEX") && text.contains("the matching line starts the next document")
                && text.contains("Text files only") && text.contains("default: none"), help.out());
        assertTrue(text.contains("--skip-bad-files") && text.contains("default: off"), help.out());
    }
}
