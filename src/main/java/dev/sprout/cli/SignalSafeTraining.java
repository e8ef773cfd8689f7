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

    /**
     * Ends the process now, as a Ctrl-C with no handler would: status {@link #STOPPED}. Not through Runtime.halt: that
     * still runs the C library's exit handlers, whose libtorch static destructors tear down state the training thread
     * is using inside its step, which crashed the JVM (SIGSEGV in at::accelerator::getAccelerator, status 134). A
     * SIGINT with its default action ends the process without running any of them.
     */
    static void stopNow() {
        System.err.flush();
        System.out.flush();
        try {
            Signal.handle(new Signal("INT"), SignalHandler.SIG_DFL);
            Signal.raise(new Signal("INT"));
            Thread.sleep(5_000); // the signal is delivered asynchronously to this thread or another
        } catch (RuntimeException | InterruptedException e) {
            // no default SIGINT to raise (e.g. the JVM runs with -Xrs): halt is all that is left
        }
        Runtime.getRuntime().halt(STOPPED);
    }

    static Summary run(Trainer.Options o, PrintStream console, boolean tty, String onSignal, Duration grace) throws IOException {
        AtomicInteger signals = new AtomicInteger();
        java.util.concurrent.atomic.AtomicReference<Thread> watchdogs = new java.util.concurrent.atomic.AtomicReference<>();
        try (Trainer trainer = Trainer.open(o, console, tty)) {
            SignalHandler handler = sig -> {
                if (signals.incrementAndGet() > 1) {
                    System.err.println("stopping at once (second signal); the last checkpoint is intact");
                    stopNow();
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
                    stopNow();
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
