package dev.sprout.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sprout.dist.Ranks;
import dev.sprout.train.TestRuns;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Every run can be stopped: an impossible one is refused before it starts, and a slow step never holds a Ctrl-C hostage. */
class StoppableRunTest {
    @TempDir
    Path tmp;

    private final List<Process> children = new ArrayList<>();

    /** Whatever a test asserted, no child keeps training after it. */
    @org.junit.jupiter.api.AfterEach
    void stopChildren() {
        for (Process p : children) p.destroyForcibly();
    }

    @Test
    void aRunThatCannotFitIsRefusedAndDryRunWritesNothing() throws Exception {
        Path run = tmp.resolve("run");
        String[] huge = {"train", "--config", TestRuns.tinyConfig(tmp, "gpt2").toString(), "--data", TestRuns.shakespeareChars().toString(),
                "--out", run.toString(), "--set", "model.context=200000", "--set", "model.max_positions=200000", "--set", "train.batch_size=64"};
        // the split is too short for that context too: the memory check must come first
        CliRun.assertUserError(CliRun.run(huge), "activations per micro-batch) but");
        assertFalse(Files.exists(run), "nothing written");
        List<String> dry = new ArrayList<>(List.of(huge));
        dry.set(dry.indexOf("model.context=200000"), "model.context=64");
        dry.add("--dry-run");
        CliRun.Outcome o = CliRun.run(dry.toArray(String[]::new));
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("context: 64") && o.out().contains("estimate: ") && o.out().contains("FLOPs per step"), o.out());
        assertFalse(Files.exists(run), "a dry run writes nothing");
    }

    /** A child training a model whose steps take seconds; returns once it has printed its first step. */
    private Process slowRun(Path run, String... extra) throws Exception {
        Path cfg = tmp.resolve("slow.yaml");
        Files.writeString(cfg, """
                model:
                  family: gpt2
                  n_layer: 8
                  n_head: 8
                  d_model: 512
                  context: 256
                train:
                  batch_size: 8
                  max_steps: 1000
                  eval_every: 0
                checkpoint:
                  every: 1000
                """);
        List<String> args = new ArrayList<>(List.of("train", "--config", cfg.toString(), "--data", TestRuns.shakespeareChars().toString(), "--out", run.toString()));
        args.addAll(List.of(extra));
        // Started with SIGINT ignored, as a job started in the background by a script is (CI's case): stopping at once
        // must then not depend on SIGINT's default action, and the JVM's exit handlers crashed the step in flight.
        List<String> cmd = new ArrayList<>(List.of("/bin/sh", "-c", "trap '' INT; exec \"$@\"", "sh"));
        List<String> java = new ArrayList<>(Ranks.javaCommand(Sprout.class.getName(), args));
        // The JVM's exit sequence logs the heap; stopping at once must skip that sequence, which ends in the C library's
        // exit handlers: their libtorch static destructors crash the step in flight (a race: CI lost it, status 134).
        java.add(1, "-Xlog:gc+heap+exit");
        cmd.addAll(java);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(tmp.resolve(run.getFileName() + ".log").toFile());
        Process p = Ranks.reaped(pb.start());
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (p.isAlive() && System.nanoTime() < deadline && !log(run).contains("step 1/")) Thread.sleep(50);
        if (!(p.isAlive() && log(run).contains("step 1/"))) {
            p.destroyForcibly(); // never leave a training process behind
            throw new AssertionError("the slow run did not start: " + log(run));
        }
        children.add(p);
        Path status = Path.of("/proc", String.valueOf(p.pid()), "status");
        if (Files.exists(status)) { // the premise: the JVM runs with SIGINT ignored (bit 1 of the SigIgn mask)
            String ignored = Files.readAllLines(status).stream().filter(l -> l.startsWith("SigIgn:")).findFirst().orElseThrow();
            assertTrue((Long.parseUnsignedLong(ignored.substring(7).trim(), 16) & 2L) != 0, ignored);
        }
        return p;
    }

    private String log(Path run) throws IOException {
        Path f = tmp.resolve(run.getFileName() + ".log");
        return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "";
    }

    @Test
    @Timeout(240)
    void aSecondSignalStopsAtOnce() throws Exception {
        Path run = tmp.resolve("twice");
        Process p = slowRun(run);
        p.toHandle().destroy(); // SIGTERM: finish this step, then checkpoint
        Thread.sleep(300);
        long second = System.nanoTime();
        p.toHandle().destroy(); // a second one: stop now
        assertTrue(p.waitFor(10, TimeUnit.SECONDS), "exited within seconds of the second signal");
        assertTrue((System.nanoTime() - second) / 1e9 < 10);
        assertEquals(130, p.exitValue(), log(run));
        assertTrue(log(run).contains("stopping at once (second signal)"), log(run));
        assertFalse(log(run).contains("gc,heap,exit"), "the JVM's exit sequence ran: " + log(run));
    }

    @Test
    @Timeout(240)
    void aStepThatOverrunsTheGraceAfterASignalStopsAtOnce() throws Exception {
        Path run = tmp.resolve("overrun");
        Process p = slowRun(run, "--stop-grace", "1");
        long signalled = System.nanoTime();
        p.toHandle().destroy();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(130, p.exitValue(), log(run));
        Matcher first = Pattern.compile("step 1/\\d+ .*\\| ([0-9.]+) ms/step").matcher(log(run));
        assertTrue(first.find(), log(run));
        if (Double.parseDouble(first.group(1)) > 3_000) { // the step in flight outlasts the grace: the watchdog must end it
            assertTrue(log(run).contains("did not finish within 1 s of the signal"), log(run));
        } else {
            assertTrue(log(run).contains("did not finish within 1 s of the signal") || log(run).contains("stopped after a checkpoint"), log(run));
        }
        double seconds = (System.nanoTime() - signalled) / 1e9;
        assertTrue(seconds < 5, "stopped about a second after the signal, not " + seconds + " s");
        assertFalse(log(run).contains("gc,heap,exit"), "the JVM's exit sequence ran: " + log(run));
    }
}
