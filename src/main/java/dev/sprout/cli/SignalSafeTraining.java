package dev.sprout.cli;

import dev.sprout.train.Summary;
import dev.sprout.train.Trainer;
import java.io.IOException;
import java.io.PrintStream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/** Training that a SIGINT or SIGTERM stops cleanly: the current step finishes and a checkpoint is written. */
final class SignalSafeTraining {
    private SignalSafeTraining() {}

    /**
     * Opens, trains and closes one run under a shutdown hook: on SIGINT/SIGTERM the trainer finishes its step and
     * writes a checkpoint, {@code onSignal} is printed, and only then may the JVM exit. Returns the summary, or null
     * when a signal stopped the run. Shared by `train` and `compare`.
     */
    static Summary run(Trainer.Options o, PrintStream console, boolean tty, String onSignal) throws IOException {
        AtomicBoolean signalled = new AtomicBoolean();
        CountDownLatch finished = new CountDownLatch(1);
        try {
            try (Trainer trainer = Trainer.open(o, console, tty)) {
                Thread hook = new Thread(() -> {
                    signalled.set(true);
                    trainer.requestStop(); // finish the step, write a checkpoint, then let the JVM exit
                    try {
                        finished.await(120, TimeUnit.SECONDS);
                    } catch (InterruptedException ignored) {
                        Thread.currentThread().interrupt();
                    }
                });
                Runtime.getRuntime().addShutdownHook(hook);
                Summary s;
                try {
                    s = trainer.train(o.maxSteps());
                } finally {
                    try {
                        Runtime.getRuntime().removeShutdownHook(hook);
                    } catch (IllegalStateException ignored) {
                        // already shutting down
                    }
                }
                if (signalled.get()) {
                    console.println(onSignal);
                    console.flush();
                    return null;
                }
                return s;
            }
        } finally {
            finished.countDown(); // after the trainer closed its metrics file
        }
    }
}
