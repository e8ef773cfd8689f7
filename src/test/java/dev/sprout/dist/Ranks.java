package dev.sprout.dist;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Starts several JVMs as the ranks of a job on 127.0.0.1 (a free port chosen now) and collects what each printed. */
public final class Ranks {
    private Ranks() {}

    /** A finished rank: its exit code and everything it printed (stdout and stderr together). */
    public record Result(int rank, int code, String output) {}

    /** A child that dies with the test JVM at the latest, whatever a test asserted before collecting it. */
    public static Process reaped(Process p) {
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly));
        return p;
    }

    /** A port nothing listens on right now. */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** The java command of this JVM, with its flags and class path, running {@code mainClass} with {@code args}. */
    public static List<String> javaCommand(String mainClass, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("-D") || a.startsWith("--enable-native-access") || a.startsWith("--sun-misc")) cmd.add(a);
        }
        cmd.add("-Xmx1g");
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(args);
        return cmd;
    }

    /** Starts rank r of {@code world} with the torchrun variables (and {@code extraEnv}); output goes to a buffer. */
    public static Process start(int rank, int world, int port, String mainClass, List<String> args, Map<String, String> extraEnv) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(javaCommand(mainClass, args)).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.put("RANK", String.valueOf(rank));
        env.put("WORLD_SIZE", String.valueOf(world));
        env.put("LOCAL_RANK", String.valueOf(rank));
        env.put("LOCAL_WORLD_SIZE", String.valueOf(world));
        env.put("MASTER_ADDR", "127.0.0.1");
        env.put("MASTER_PORT", String.valueOf(port));
        env.put("SPROUT_THREADS", "1");
        env.put("OMP_NUM_THREADS", "1");
        env.put("MKL_NUM_THREADS", "1");
        env.putAll(extraEnv);
        return reaped(pb.start());
    }

    /** One process outside any job (no torchrun variables), one thread like each rank, to the end (at most {@code seconds}). */
    public static Result runAlone(String mainClass, List<String> args, long seconds) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(javaCommand(mainClass, args)).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        for (String v : List.of("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")) env.remove(v);
        env.put("SPROUT_THREADS", "1");
        env.put("OMP_NUM_THREADS", "1");
        env.put("MKL_NUM_THREADS", "1");
        return collect(List.of(reaped(pb.start())), seconds).get(0);
    }

    /** Runs {@code world} ranks of {@code mainClass} to the end (at most {@code seconds}; stragglers are killed). */
    public static List<Result> run(int world, String mainClass, List<String> args, Map<String, String> extraEnv, long seconds) throws Exception {
        int port = freePort();
        List<Process> ps = new ArrayList<>();
        for (int r = 0; r < world; r++) ps.add(start(r, world, port, mainClass, args, extraEnv));
        return collect(ps, seconds);
    }

    /** Waits for the processes (at most {@code seconds} in all), killing any still running then. */
    public static List<Result> collect(List<Process> ps, long seconds) throws Exception {
        List<Thread> readers = new ArrayList<>();
        String[] outs = new String[ps.size()];
        for (int r = 0; r < ps.size(); r++) {
            int rank = r;
            Thread t = new Thread(() -> {
                try {
                    outs[rank] = new String(ps.get(rank).getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    outs[rank] = "(unreadable: " + e + ")";
                }
            });
            t.start();
            readers.add(t);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        List<Result> results = new ArrayList<>();
        for (int r = 0; r < ps.size(); r++) {
            Process p = ps.get(r);
            if (!p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) p.destroyForcibly().waitFor();
            readers.get(r).join(10_000);
            results.add(new Result(r, p.exitValue(), outs[r]));
        }
        return results;
    }
}
