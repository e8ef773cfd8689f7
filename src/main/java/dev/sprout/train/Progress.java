package dev.sprout.train;

import java.io.PrintStream;
import java.util.Locale;

/** The console view of a run: a progress line every N steps, redrawn as a bar when a terminal is attached. */
public final class Progress {
    private final PrintStream out;
    private final boolean tty;
    private boolean barShown;

    public Progress(PrintStream out, boolean tty) {
        this.out = out;
        this.tty = tty;
    }

    /** A line or a bar for step {@code step} of {@code total}, its rates over the window since the last printed line. */
    public void step(long step, long total, double loss, Double val, double lr, RateWindow.Rates rates, double etaS, boolean logLine) {
        String line = String.format(Locale.ROOT, "step %d/%d | loss %.4f%s | lr %.2e | %.1f ms/step | %s tok/s | %.1f GFLOP/s | MFU %.1f%% | ETA %s",
                step, total, loss, val == null ? "" : String.format(Locale.ROOT, " | val %.4f", val), lr, rates.msPerStep(),
                human(rates.tokensPerS()), rates.gflopsPerS(), 100 * rates.mfu(), duration(etaS));
        if (tty) {
            int width = 24, filled = (int) Math.round(width * (double) step / total);
            String bar = "[" + "=".repeat(filled) + " ".repeat(width - filled) + "] ";
            clearBar(); // the bar or the evaluation notice before it, either of which may be longer than this line
            if (logLine) out.println(line);
            out.print(bar + line);
            out.flush();
            barShown = true;
        } else if (logLine) {
            out.println(line);
        }
    }

    /**
     * Says that the validation loss is being computed, which may take as long as many steps: on a terminal in place of
     * the bar until the next step redraws it; in a log nothing (the step's line that follows carries the val loss).
     */
    public void evaluating(long step) {
        if (!tty) return;
        clearBar();
        out.print("evaluating at step " + step + "...");
        out.flush();
        barShown = true;
    }

    public void message(String msg) {
        clearBar();
        out.println(msg);
    }

    private void clearBar() {
        if (barShown) {
            out.print("\r\033[2K");
            barShown = false;
        }
    }

    public void finish() {
        clearBar();
        out.flush();
    }

    static String human(double v) {
        if (v >= 1e6) return String.format(Locale.ROOT, "%.2fM", v / 1e6);
        if (v >= 1e3) return String.format(Locale.ROOT, "%.1fk", v / 1e3);
        return String.format(Locale.ROOT, "%.0f", v);
    }

    static String duration(double s) {
        if (!Double.isFinite(s) || s < 0) return "?";
        long t = Math.round(s);
        if (t >= 3600) return (t / 3600) + "h" + String.format("%02dm", (t % 3600) / 60);
        if (t >= 60) return (t / 60) + "m" + String.format("%02ds", t % 60);
        return t + "s";
    }
}
