package dev.sprout.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * A stand-in for a training rank, for {@link LaunchCommandTest}: a tiny program that runs the actions in its arguments
 * in order. An action may carry "@R,R,..." to run only on those ranks (RANK from the environment).
 * <ul>
 *   <li>{@code say}: prints its rank variables on stdout ("rank R: RANK=... WORLD_SIZE=...") and "rank R on stderr" on stderr</li>
 *   <li>{@code lines=N}: prints N long numbered lines, quickly, to show that ranks' lines never mix</li>
 *   <li>{@code ready}: prints "rank R ready" (its SIGTERM hook is in place by then)</li>
 *   <li>{@code barrier=DIR}: waits until all LOCAL_WORLD_SIZE ranks got here, so each has its SIGTERM hook in place</li>
 *   <li>{@code sleep=S}: sleeps S seconds</li>
 *   <li>{@code exit=C}: exits with code C at once</li>
 *   <li>{@code kill9}: sends itself SIGKILL</li>
 *   <li>{@code ignore-term}: on SIGTERM, hangs instead of checkpointing (so it has to be killed)</li>
 * </ul>
 * On SIGTERM it prints "rank R checkpointed" and exits 0, as `sprout train` writes a checkpoint and stops.
 */
public final class FakeRank {
    private FakeRank() {}

    public static void main(String[] args) throws Exception {
        String rank = System.getenv().getOrDefault("RANK", "?");
        AtomicBoolean finished = new AtomicBoolean();
        AtomicBoolean ignoreTerm = new AtomicBoolean();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (finished.get()) return; // a normal exit, not a signal
            if (ignoreTerm.get()) sleepSeconds(3600);
            System.out.println("rank " + rank + " checkpointed");
            System.out.flush();
            Runtime.getRuntime().halt(0);
        }));
        for (String arg : args) {
            int at = arg.indexOf('@');
            String action = at < 0 ? arg : arg.substring(0, at);
            if (at >= 0 && Arrays.stream(arg.substring(at + 1).split(",")).noneMatch(rank::equals)) continue;
            int eq = action.indexOf('=');
            String name = eq < 0 ? action : action.substring(0, eq), value = eq < 0 ? "" : action.substring(eq + 1);
            switch (name) {
                case "say" -> {
                    StringBuilder line = new StringBuilder("rank " + rank + ":");
                    for (String var : new String[] {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
                            "SPROUT_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"}) {
                        line.append(' ').append(var).append('=').append(System.getenv(var));
                    }
                    System.out.println(line);
                    System.err.println("rank " + rank + " on stderr");
                }
                case "lines" -> {
                    String filler = "x".repeat(300);
                    for (int i = 0; i < Integer.parseInt(value); i++) System.out.println("rank " + rank + " line " + i + " " + filler);
                }
                case "ready" -> System.out.println("rank " + rank + " ready");
                case "barrier" -> barrier(Path.of(value), rank, Integer.parseInt(System.getenv("LOCAL_WORLD_SIZE")));
                case "sleep" -> sleepSeconds(Long.parseLong(value));
                case "exit" -> {
                    finished.set(true);
                    System.out.flush();
                    System.exit(Integer.parseInt(value));
                }
                case "kill9" -> {
                    System.out.flush();
                    new ProcessBuilder("kill", "-KILL", Long.toString(ProcessHandle.current().pid())).inheritIO().start().waitFor();
                    sleepSeconds(60);
                }
                case "ignore-term" -> ignoreTerm.set(true);
                default -> throw new IllegalArgumentException("FakeRank: unknown action " + arg);
            }
            System.out.flush();
        }
        finished.set(true);
    }

    private static void barrier(Path dir, String rank, int ranks) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("rank-" + rank), "");
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            try (Stream<Path> s = Files.list(dir)) {
                if (s.count() >= ranks) return;
            }
            if (System.currentTimeMillis() > deadline) throw new IllegalStateException("FakeRank: the other ranks never reached " + dir);
            sleepMillis(20);
        }
    }

    private static void sleepSeconds(long s) {
        sleepMillis(s * 1000);
    }

    private static void sleepMillis(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
