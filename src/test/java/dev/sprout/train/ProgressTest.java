package dev.sprout.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The progress line's rates come from one window of steps, and evaluation shows on a terminal only. */
class ProgressTest {
    @Test
    void everyRateIsAMeanOverTheSameSteps() {
        RateWindow w = new RateWindow();
        w.add(10, 1000, 1e9); // a fast cheap step
        w.add(30, 1000, 3e9); // a slow expensive one (a full step after a subnetwork step, say)
        RateWindow.Rates r = w.rates(1e12);
        assertEquals(20, r.msPerStep(), 1e-9);
        assertEquals(2000 / 0.04, r.tokensPerS(), 1e-6, "2000 tokens in 40 ms");
        assertEquals(4e9 / 0.04 / 1e9, r.gflopsPerS(), 1e-9, "4 GFLOP in 40 ms, not the last step's 3 GFLOP in 30 ms");
        assertEquals(4e9 / 0.04 / 1e12, r.mfu(), 1e-12);
        assertEquals(r.gflopsPerS() * 1e9 / 1e12, r.mfu(), 1e-12, "MFU and GFLOP/s say the same");
        w.reset();
        assertEquals(0, w.steps());
        w.add(5, 100, 2e8);
        assertEquals(5, w.rates(1e12).msPerStep(), 1e-9, "a new window forgets the old steps");
        assertEquals(2e8 / 0.005 / 1e9, w.rates(1e12).gflopsPerS(), 1e-9);
    }

    @Test
    void theLinePrintsTheWindowsRates() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(bytes, true, StandardCharsets.UTF_8), false);
        p.step(10, 100, 2.5, 2.25, 1e-3, new RateWindow.Rates(20, 50_000, 100, 0.1), 1800, true);
        String line = bytes.toString(StandardCharsets.UTF_8);
        assertEquals("step 10/100 | loss 2.5000 | val 2.2500 | lr 1.00e-03 | 20.0 ms/step | 50.0k tok/s | 100.0 GFLOP/s | MFU 10.0% | ETA 30m00s\n", line);
    }

    @Test
    void evaluationShowsOnATerminalAndAddsNothingToALog() {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Progress plain = new Progress(new PrintStream(log, true, StandardCharsets.UTF_8), false);
        plain.evaluating(10);
        assertEquals("", log.toString(StandardCharsets.UTF_8));

        ByteArrayOutputStream term = new ByteArrayOutputStream();
        Progress tty = new Progress(new PrintStream(term, true, StandardCharsets.UTF_8), true);
        RateWindow.Rates r = new RateWindow.Rates(20, 50_000, 100, 0.1);
        tty.step(9, 100, 2.5, null, 1e-3, r, 1800, false);
        tty.evaluating(10);
        String shown = term.toString(StandardCharsets.UTF_8);
        assertTrue(shown.endsWith("\r\033[2Kevaluating at step 10..."), "the notice replaces the bar: " + shown);
        tty.step(10, 100, 2.5, 2.25, 1e-3, r, 1800, true);
        String after = term.toString(StandardCharsets.UTF_8).substring(shown.length());
        assertTrue(after.startsWith("\r\033[2Kstep 10/100"), "the next step clears the notice before its line: " + after);
    }
}
