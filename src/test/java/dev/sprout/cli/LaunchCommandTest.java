package dev.sprout.cli;

import static dev.sprout.cli.CliRun.assertUserError;
import static dev.sprout.cli.CliRun.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * `sprout launch` with {@link FakeRank} in place of the sprout command: the ranks' environment, their prefixed output,
 * a failing rank stopping the others, and SIGTERM to the launcher reaching every rank (the launcher in its own JVM).
 * Every test is bounded: a launcher that failed to stop its ranks would otherwise hang the build.
 */
@Timeout(60)
class LaunchCommandTest {
    private static final Pattern SAY = Pattern.compile("\\[rank (\\d+)] rank (\\d+): RANK=(\\d+) WORLD_SIZE=(\\d+) LOCAL_RANK=(\\d+) "
            + "LOCAL_WORLD_SIZE=(\\d+) MASTER_ADDR=(\\S+) MASTER_PORT=(\\d+) SPROUT_THREADS=(\\d+) OMP_NUM_THREADS=(\\d+) MKL_NUM_THREADS=(\\d+)");

    @TempDir
    Path tmp;

    @BeforeEach
    void ranksRunFakeRank() {
        System.setProperty(LaunchCommand.CHILD_MAIN_PROPERTY, FakeRank.class.getName());
    }

    @AfterEach
    void ranksRunSproutAgain() {
        System.clearProperty(LaunchCommand.CHILD_MAIN_PROPERTY);
    }

    @Test
    void everyRankGetsItsRankTheSharedRendezvousAndItsShareOfTheCores() {
        CliRun.Outcome o = run("launch", "--nproc", "3", "--", "say", "lines=400");
        assertEquals(0, o.code(), o.err());
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors() / 3);
        Set<String> ports = new HashSet<>();
        for (int r = 0; r < 3; r++) {
            Matcher m = say(o.out(), r);
            assertEquals(List.of("" + r, "" + r, "3", "" + r, "3", "127.0.0.1"), List.of(m.group(2), m.group(3), m.group(4), m.group(5), m.group(6), m.group(7)));
            ports.add(m.group(8));
            assertEquals(List.of("" + threads, "" + threads, "" + threads), List.of(m.group(9), m.group(10), m.group(11)));
            assertTrue(o.err().contains("[rank " + r + "] rank " + r + " on stderr\n"), o.err());
        }
        assertEquals(1, ports.size(), "one rendezvous for all: " + ports);
        int port = Integer.parseInt(ports.iterator().next());
        assertTrue(port > 0 && port < 65536, "a port: " + port);
        // Whole lines only: each line carries its own rank's prefix, however fast the ranks print.
        Pattern line = Pattern.compile("\\[rank (\\d)] rank (\\d)( line \\d+ x{300}|: .*)");
        List<String> lines = o.out().lines().toList();
        assertEquals(3 * 401, lines.size());
        for (String l : lines) {
            Matcher m = line.matcher(l);
            assertTrue(m.matches() && m.group(1).equals(m.group(2)), "a whole line of one rank: " + l);
        }
    }

    @Test
    void aSecondNodesRanksFollowTheFirstNodes() {
        CliRun.Outcome o = run("launch", "--nnodes", "2", "--node-rank", "1", "--nproc", "2", "--master", "127.0.0.1:29999", "--threads", "3", "--", "say");
        assertEquals(0, o.code(), o.err());
        for (int local = 0; local < 2; local++) {
            int r = 2 + local;
            Matcher m = say(o.out(), r);
            assertEquals(List.of("" + r, "4", "" + local, "2", "127.0.0.1", "29999", "3", "3", "3"),
                    List.of(m.group(3), m.group(4), m.group(5), m.group(6), m.group(7), m.group(8), m.group(9), m.group(10), m.group(11)));
        }
        assertFalse(o.out().contains("[rank 0]") || o.out().contains("[rank 1]"), o.out());
    }

    @Test
    void aFailingRankStopsTheOthersWhichCheckpoint() {
        long start = System.nanoTime();
        CliRun.Outcome o = run("launch", "--nproc", "3", "--", "barrier=" + tmp.resolve("barrier"), "exit=3@1", "sleep=50");
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(3, o.code(), o.err());
        assertTrue(seconds < 30, "stopped long before the sleepers would have woken: " + seconds + " s");
        assertTrue(o.err().contains("launch: rank 1 exited with code 3; stopping the other ranks\n"), o.err());
        assertEquals(1, o.err().lines().filter(l -> l.startsWith("launch: rank")).count(), "only the first failure is named: " + o.err());
        assertTrue(o.out().contains("[rank 0] rank 0 checkpointed\n"), o.out());
        assertTrue(o.out().contains("[rank 2] rank 2 checkpointed\n"), o.out());
    }

    @Test
    void aRankKilledBySignalIsReportedAsSuch() {
        CliRun.Outcome o = run("launch", "--nproc", "2", "--", "barrier=" + tmp.resolve("barrier"), "kill9@1", "sleep=50");
        assertEquals(128 + 9, o.code(), o.err());
        assertTrue(o.err().contains("launch: rank 1 was killed by signal 9; stopping the other ranks\n"), o.err());
        assertTrue(o.out().contains("[rank 0] rank 0 checkpointed\n"), o.out());
    }

    @Test
    void aRankThatIgnoresSigtermIsKilledAfterTheGracePeriod() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        List<String> fakeRank = List.of(javaExecutable(), "-cp", System.getProperty("java.class.path"), FakeRank.class.getName(),
                "barrier=" + tmp.resolve("barrier"), "ignore-term", "exit=4@0", "sleep=50");
        List<RankGroup.Member> ranks = LaunchCommand.localRanks(1, 0, 2, new LaunchCommand.Rendezvous("127.0.0.1", 29500), 1);
        int code = new RankGroup(fakeRank, ranks, utf8(out), utf8(err), Duration.ofSeconds(1)).run();
        assertEquals(4, code);
        String e = err.toString(StandardCharsets.UTF_8);
        assertTrue(e.contains("launch: rank 0 exited with code 4; stopping the other ranks\n"), e);
        assertTrue(e.contains("launch: rank 1 did not stop within 1 s; killing it\n"), e);
    }

    @Test
    void sigtermToTheLauncherReachesEveryRankWhichCheckpoints() throws Exception {
        List<String> launcher = List.of(javaExecutable(), "-Xmx128m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-D" + LaunchCommand.CHILD_MAIN_PROPERTY + "=" + FakeRank.class.getName(), "-cp", System.getProperty("java.class.path"),
                Sprout.class.getName(), "launch", "--nproc", "2", "--", "ready", "sleep=50");
        Process p = new ProcessBuilder(launcher).start();
        try {
            BlockingQueue<String> out = linesOf(p.getInputStream());
            Set<String> ready = new HashSet<>();
            while (ready.size() < 2) {
                String l = out.poll(40, TimeUnit.SECONDS);
                assertTrue(l != null && !l.equals(EOF), "both ranks ready before the launcher stopped; got " + l);
                if (l.matches("\\[rank \\d] rank \\d ready")) ready.add(l);
            }
            p.toHandle().destroy(); // SIGTERM; Process.destroy() would also close the pipes we still read
            assertTrue(p.waitFor(40, TimeUnit.SECONDS), "the launcher exits once its ranks have");
            assertEquals(RankGroup.STOPPED_BY_SIGNAL, p.exitValue());
            List<String> rest = new ArrayList<>();
            for (String l = out.poll(10, TimeUnit.SECONDS); l != null && !l.equals(EOF); l = out.poll(10, TimeUnit.SECONDS)) rest.add(l);
            assertTrue(rest.contains("[rank 0] rank 0 checkpointed") && rest.contains("[rank 1] rank 1 checkpointed"), rest.toString());
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(err.startsWith("launch: stopping every rank"), err);
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void badArgumentsAreOneLineErrors() {
        assertUserError(run("launch", "--nproc", "0", "--", "say"), "--nproc: must be >= 1");
        assertUserError(run("launch", "--nproc", "2", "--nnodes", "0", "--", "say"), "--nnodes: must be >= 1");
        assertUserError(run("launch", "--nproc", "2", "--nnodes", "2", "--node-rank", "2", "--master", "h:1", "--", "say"), "--node-rank: must be 0 to 1");
        assertUserError(run("launch", "--nproc", "2", "--node-rank", "-1", "--", "say"), "--node-rank: must be 0 to 0");
        assertUserError(run("launch", "--nproc", "2", "--threads", "0", "--", "say"), "--threads: must be >= 1");
        assertUserError(run("launch", "--nproc", "2", "--nnodes", "2", "--node-rank", "1", "--", "say"), "--master HOST:PORT is required with --nnodes 2");
        assertUserError(run("launch", "--nproc", "2", "--master", "localhost", "--", "say"), "--master: expected HOST:PORT");
        assertUserError(run("launch", "--nproc", "2", "--master", ":29500", "--", "say"), "--master: expected HOST:PORT");
        assertUserError(run("launch", "--nproc", "2", "--master", "localhost:", "--", "say"), "--master: expected HOST:PORT");
        assertUserError(run("launch", "--nproc", "2", "--master", "localhost:http", "--", "say"), "port must be a number from 1 to 65535, got 'http'");
        assertUserError(run("launch", "--nproc", "2", "--master", "localhost:65536", "--", "say"), "port must be a number from 1 to 65535, got 65536");
        assertUserError(run("launch", "--nproc", "2", "--master", "localhost:0", "--", "say"), "got 0");
        assertUserError(run("launch", "--nproc", "2", "--"), "give the sprout command to run after --");
        assertUserError(run("launch", "--nproc", "2"), "give the sprout command to run after --");
        assertUserError(run("launch", "--nproc", "2", "--", "launch", "--nproc", "2", "--", "train"), "the command after -- is launch itself");
        System.clearProperty(LaunchCommand.CHILD_MAIN_PROPERTY); // the ranks would run sprout: its commands are known
        assertUserError(run("launch", "--nproc", "2", "--", "trian", "--out", "x"),
                "launch: 'trian' is not a sprout command; give one of bench, compare, eval, export, prepare, sample, train after --");
    }

    @Test
    void masterAcceptsBracketedIpv6() {
        assertEquals(new LaunchCommand.Rendezvous("::1", 29500), LaunchCommand.parseMaster("[::1]:29500"));
        assertEquals(new LaunchCommand.Rendezvous("node0.cluster", 1234), LaunchCommand.parseMaster("node0.cluster:1234"));
    }

    @Test
    void theRanksRunThisJvmAgainWithItsFlagsAndClasspath() {
        System.clearProperty(LaunchCommand.CHILD_MAIN_PROPERTY);
        List<String> c = LaunchCommand.sproutCommand(List.of("train", "--out", "x"));
        assertEquals(javaExecutable(), c.get(0));
        int cp = c.indexOf("-cp");
        assertNotEquals(-1, cp);
        assertEquals(List.of(System.getProperty("java.class.path"), Sprout.class.getName(), "train", "--out", "x"), c.subList(cp + 1, c.size()));
        assertTrue(c.contains("-Dorg.bytedeco.openblas.load=mkl_rt"), "the JVM's -D flags carry over: " + c);
    }

    private static Matcher say(String out, int rank) {
        for (String l : out.lines().toList()) {
            Matcher m = SAY.matcher(l);
            if (m.matches() && m.group(1).equals("" + rank)) return m;
        }
        throw new AssertionError("no line from rank " + rank + " in:\n" + out);
    }

    private static final String EOF = "\u0000end of stream";

    /** The lines of a stream as they come, read on a thread; {@link #EOF} after the last. */
    private static BlockingQueue<String> linesOf(InputStream in) {
        BlockingQueue<String> q = new LinkedBlockingQueue<>();
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String l = r.readLine(); l != null; l = r.readLine()) q.add(l);
            } catch (IOException ignored) {
                // the process is gone
            }
            q.add(EOF);
        });
        t.setDaemon(true);
        t.start();
        return q;
    }

    private static String javaExecutable() {
        return ProcessHandle.current().info().command().orElseThrow();
    }

    private static PrintStream utf8(ByteArrayOutputStream b) {
        return new PrintStream(b, true, StandardCharsets.UTF_8);
    }
}
