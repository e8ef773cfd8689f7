package dev.sprout.cli;

import dev.sprout.train.Summary;
import dev.sprout.train.Trainer;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Training that SIGINT (Ctrl-C) and SIGTERM stop cleanly, and that can always be stopped. The first signal asks the trainer
 * to finish its step and write a checkpoint (in a data-parallel job every rank stops after the same step). A second
 * signal exits at once, and so does a step that, after the first, runs past the grace period: the last checkpoint is
 * intact either way (checkpoints are written to a temporary file and renamed). Shared by `train` and `compare`.
 */
final class SignalSafeTraining {
    /** Exit status of a run stopped by a signal, as shells report Ctrl-C. */
    static final int STOPPED = 130;

    /** The default time the step in flight (and its checkpoint) gets after a first signal. */
    static final Duration DEFAULT_GRACE = Duration.ofSeconds(300);

    private SignalSafeTraining() {}

    /**
     * Opens, trains and closes one run with the signal handlers in place. Returns the summary, or null when a signal
     * stopped the run (after {@code onSignal} was printed).
     */
    static Summary run(Trainer.Options o, PrintStream console, boolean tty, String onSignal) throws IOException {
        return run(o, console, tty, onSignal, DEFAULT_GRACE);
    }

    static Summary run(Trainer.Options o, PrintStream console, boolean tty, String onSignal, Duration grace) throws IOException {
        AtomicInteger signals = new AtomicInteger();
        java.util.concurrent.atomic.AtomicReference<Thread> watchdogs = new java.util.concurrent.atomic.AtomicReference<>();
        try (Trainer trainer = Trainer.open(o, console, tty)) {
            SignalHandler handler = sig -> {
                if (signals.incrementAndGet() > 1) {
                    System.err.println("stopping at once (second signal); the last checkpoint is intact");
                    ProcessExit.now(STOPPED);
                }
                System.err.println("stopping after this step with a checkpoint (" + grace.toSeconds() + " s at most); a second Ctrl-C stops at once");
                trainer.requestStop();
                Thread watchdog = new Thread(() -> {
                    try {
                        Thread.sleep(grace.toMillis());
                    } catch (InterruptedException e) {
                        return;
                    }
                    System.err.println("the step did not finish within " + grace.toSeconds() + " s of the signal; stopping at once (the last checkpoint is intact)");
                    ProcessExit.now(STOPPED);
                }, "stop-watchdog");
                watchdog.setDaemon(true);
                watchdogs.set(watchdog);
                watchdog.start();
            };
            SignalHandler oldInt = Signal.handle(new Signal("INT"), handler), oldTerm = Signal.handle(new Signal("TERM"), handler);
            Summary s;
            try {
                s = trainer.train(o.maxSteps());
            } finally {
                Signal.handle(new Signal("INT"), oldInt);
                Signal.handle(new Signal("TERM"), oldTerm);
                Thread w = watchdogs.get();
                if (w != null) w.interrupt(); // the step and its checkpoint finished in time
            }
            if (signals.get() > 0) {
                console.println(onSignal);
                console.flush();
                return null;
            }
            return s;
        }
    }
}
