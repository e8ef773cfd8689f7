package dev.sprout.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The processes of one machine's ranks, started together and stopped together. Every rank runs the same command line
 * with its own environment on top of ours; its output lines are relayed prefixed with "[rank R] ". The first rank to
 * fail stops the others (SIGTERM, so `train` writes a checkpoint; SIGKILL after a grace period), and so does a
 * SIGINT or SIGTERM to this JVM. Takes the command as a parameter so that tests can launch small test programs.
 */
final class RankGroup {
    /** One local rank: its global rank (the output prefix) and the variables it gets on top of our environment. */
    record Member(int rank, Map<String, String> env) {}

    /** How long stopped ranks get to exit (a checkpoint of a large model takes a while) before they are killed. */
    static final Duration DEFAULT_GRACE = Duration.ofSeconds(150);

    /** Exit status after a signal stopped the ranks, the status `sprout train` returns when a signal stops it. */
    static final int STOPPED_BY_SIGNAL = 130;

    /** How long to relay the output a finished rank left in its pipes before moving on. */
    private static final long OUTPUT_DRAIN_MS = 5_000;

    private record Started(Member member, Process process, List<Thread> relays) {}

    private final List<String> command;
    private final List<Member> members;
    private final PrintStream out;
    private final PrintStream err;
    private final Duration grace;
    private final Object lineLock = new Object();
    private final List<Started> started = new ArrayList<>(); // guarded by this
    private boolean stopping; // guarded by this: no rank may start, no later exit counts as a failure

    RankGroup(List<String> command, List<Member> members, PrintStream out, PrintStream err, Duration grace) {
        if (command.isEmpty() || members.isEmpty()) throw new IllegalArgumentException("a command and at least one rank");
        this.command = List.copyOf(command);
        this.members = List.copyOf(members);
        this.out = out;
        this.err = err;
        this.grace = grace;
    }

    /**
     * Starts every rank and waits for all of them. Returns 0 when every rank exited 0, else the exit code of the first
     * rank to fail. While it runs, a SIGINT or SIGTERM to this JVM stops the ranks and exits with
     * {@link #STOPPED_BY_SIGNAL}.
     */
    int run() throws IOException, InterruptedException {
        Thread onSignal = new Thread(this::stopOnSignal, "launch-stop-ranks");
        Runtime.getRuntime().addShutdownHook(onSignal); // before the first start, so no rank can outlive us
        try {
            startAll();
            return awaitAll();
        } catch (InterruptedException e) {
            for (Started s : snapshot()) s.process().destroyForcibly(); // our caller gave up waiting: leave no orphans
            throw e;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(onSignal);
            } catch (IllegalStateException alreadyShuttingDown) {
                // the hook is running: it stops the ranks and ends the JVM
            }
        }
    }

    private void startAll() throws IOException {
        for (Member m : members) {
            ProcessBuilder pb = new ProcessBuilder(command);
            pb.environment().putAll(m.env());
            synchronized (this) {
                if (stopping) return; // a signal came while we were starting
                Process p;
                try {
                    p = pb.start();
                } catch (IOException e) {
                    stopping = true;
                    for (Started s : started) s.process().destroyForcibly(); // they never got to do any work
                    throw new IOException("launch: could not start rank " + m.rank() + " (" + String.join(" ", command) + "): " + e.getMessage(), e);
                }
                p.getOutputStream().close(); // ranks read no input; closing gives them end-of-file rather than a hang
                String prefix = "[rank " + m.rank() + "] ";
                List<Thread> relays = List.of(
                        relay(new PrefixedLines(p.getInputStream(), prefix, out, lineLock), "rank-" + m.rank() + "-stdout"),
                        relay(new PrefixedLines(p.getErrorStream(), prefix, err, lineLock), "rank-" + m.rank() + "-stderr"));
                started.add(new Started(m, p, relays));
            }
        }
    }

    private static Thread relay(Runnable copier, String name) {
        Thread t = new Thread(copier, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Waits for every started rank; the first to exit non-zero while nothing is stopping them stops the rest. */
    private int awaitAll() throws InterruptedException {
        List<Started> ranks = snapshot();
        BlockingQueue<Started> exited = new LinkedBlockingQueue<>();
        for (Started s : ranks) s.process().onExit().thenRun(() -> exited.add(s));
        int failure = 0;
        for (int remaining = ranks.size(); remaining > 0; remaining--) {
            Started s = exited.take();
            int code = s.process().exitValue();
            if (code == 0 || !claimFailure()) continue;
            failure = code;
            awaitOutput(s); // its last lines, usually the reason, come before our verdict
            boolean othersRunning = remaining > 1;
            printErr("launch: rank " + s.member().rank() + " " + describe(code) + (othersRunning ? "; stopping the other ranks" : ""));
            if (othersRunning) stopAll();
        }
        for (Started s : ranks) awaitOutput(s);
        return failure;
    }

    /** True for the first failure only, and only while no signal is stopping the ranks (their exits then are expected). */
    private synchronized boolean claimFailure() {
        if (stopping) return false;
        stopping = true;
        return true;
    }

    /** Java reports a child killed by signal S as exit code 128 + S. */
    static String describe(int exitCode) {
        return exitCode > 128 ? "was killed by signal " + (exitCode - 128) : "exited with code " + exitCode;
    }

    /** The shutdown hook: stop the ranks gracefully, print what they said, and end with {@link #STOPPED_BY_SIGNAL}. */
    private void stopOnSignal() {
        synchronized (this) {
            stopping = true;
        }
        printErr("launch: stopping every rank (SIGTERM; train and compare write a checkpoint first), waiting up to " + grace.toSeconds() + " s");
        stopAll();
        for (Started s : snapshot()) awaitOutput(s);
        // The JVM would otherwise exit with 128 + the signal; one status for "stopped by a signal", whichever it was.
        Runtime.getRuntime().halt(STOPPED_BY_SIGNAL);
    }

    /** SIGTERM to every live rank, up to the grace period for all of them to exit, then SIGKILL to those still alive. */
    private void stopAll() {
        List<Started> live = snapshot().stream().filter(s -> s.process().isAlive()).toList();
        // Through the ProcessHandle: Process.destroy() also closes our ends of the pipes, losing what the rank says
        // while it stops (its checkpoint, its last metrics).
        live.forEach(s -> s.process().toHandle().destroy());
        long deadline = System.nanoTime() + grace.toNanos();
        try {
            for (Started s : live) s.process().waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // stop waiting; whatever is still alive is killed now
        }
        for (Started s : live) {
            if (!s.process().isAlive()) continue;
            printErr("launch: rank " + s.member().rank() + " did not stop within " + grace.toSeconds() + " s; killing it");
            s.process().toHandle().destroyForcibly();
        }
    }

    /** Lets the relays print what an exited rank left in its pipes (bounded: a grandchild could hold them open). */
    private static void awaitOutput(Started s) {
        long deadline = System.currentTimeMillis() + OUTPUT_DRAIN_MS;
        try {
            for (Thread t : s.relays()) t.join(Math.max(1, deadline - System.currentTimeMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void printErr(String line) {
        synchronized (lineLock) {
            err.println(line);
            err.flush();
        }
    }

    private synchronized List<Started> snapshot() {
        return List.copyOf(started);
    }
}
