package dev.sprout.cli;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.IModelTransformer;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * `sprout launch`: runs a sprout command as several processes on this machine, one per rank, the way torchrun does:
 * each gets its rank and the rendezvous address in the environment (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
 * MASTER_ADDR, MASTER_PORT) and a share of the cores. The processes themselves are run by {@link RankGroup}.
 */
@Command(name = "launch", mixinStandardHelpOptions = true, modelTransformer = LaunchCommand.CommandAfterOptions.class,
        description = {"Run a sprout command as --nproc processes on this machine, one per rank, like torchrun.",
                "Each rank gets RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT, and its share of the cores "
                        + "(SPROUT_THREADS, OMP_NUM_THREADS, MKL_NUM_THREADS). Their output is printed line by line, prefixed with [rank R].",
                "If a rank fails, the others are stopped and launch exits with its code. Ctrl-C or SIGTERM stops every rank "
                        + "(train and compare write a checkpoint first) and exits 130.",
                "Example: sprout launch --nproc 2 -- train --config configs/shakespeare-char.yaml --out runs/x"})
final class LaunchCommand implements Callable<Integer> {
    /**
     * The main class the ranks run instead of {@link Sprout}; hidden, for tests that launch a small test program
     * through the real command line. The ranks inherit it, like every other -D flag.
     */
    static final String CHILD_MAIN_PROPERTY = "sprout.launch.childMain";

    static final String EXAMPLE = "sprout launch --nproc 2 -- train --config configs/shakespeare-char.yaml --out runs/x";

    @Option(names = "--nproc", required = true, paramLabel = "N", description = "Processes to start on this machine, one per rank.")
    int nproc;

    @Option(names = "--nnodes", paramLabel = "M", description = "Machines taking part; run sprout launch on each, with its own --node-rank "
            + "and the same --master (default: 1).")
    int nnodes = 1;

    @Option(names = "--node-rank", paramLabel = "K", description = "This machine's index, 0 to M-1: its ranks are K*N to K*N+N-1 (default: 0).")
    int nodeRank;

    @Option(names = "--master", paramLabel = "HOST:PORT", description = "Where the ranks meet, on the machine with node rank 0 "
            + "(MASTER_ADDR, MASTER_PORT). Required with --nnodes above 1; default: 127.0.0.1 and a free port.")
    String master;

    @Option(names = "--threads", paramLabel = "T", description = "Threads per rank (SPROUT_THREADS, OMP_NUM_THREADS, MKL_NUM_THREADS); "
            + "a config's threads key still wins. Default: the cores divided by --nproc, at least 1.")
    Integer threads;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "COMMAND", description = "The sprout command every rank runs, with its arguments, after --.")
    List<String> command = new ArrayList<>();

    /** Where the ranks meet. */
    record Rendezvous(String host, int port) {}

    /**
     * Stops option parsing at the first word of the command, so that without `--` the command's own options still go
     * to the command, not to launch (which would reject them, or worse, take --help or --threads for itself).
     */
    static final class CommandAfterOptions implements IModelTransformer {
        @Override
        public CommandSpec transform(CommandSpec spec) {
            spec.parser().stopAtPositional(true);
            return spec;
        }
    }

    @Override
    public Integer call() throws Exception {
        if (nproc < 1) throw new Sprout.UserException("--nproc: must be >= 1, got " + nproc);
        if (nnodes < 1) throw new Sprout.UserException("--nnodes: must be >= 1, got " + nnodes);
        if (nodeRank < 0 || nodeRank >= nnodes) {
            throw new Sprout.UserException("--node-rank: must be 0 to " + (nnodes - 1) + " (--nnodes " + nnodes + "), got " + nodeRank);
        }
        if (threads != null && threads < 1) throw new Sprout.UserException("--threads: must be >= 1, got " + threads);
        if (master == null && nnodes > 1) {
            throw new Sprout.UserException("--master HOST:PORT is required with --nnodes " + nnodes + ": the address of node 0, where the ranks meet");
        }
        Rendezvous given = master != null ? parseMaster(master) : null;
        if (command.isEmpty()) throw new Sprout.UserException("launch: give the sprout command to run after --, e.g. " + EXAMPLE);
        if (command.get(0).equals("launch")) {
            throw new Sprout.UserException("launch: the command after -- is launch itself; give the command every rank runs, e.g. " + EXAMPLE);
        }
        if (childMain().equals(Sprout.class.getName())) requireSproutCommand(command.get(0));
        Rendezvous at = given != null ? given : new Rendezvous("127.0.0.1", freeLocalPort());
        int perRank = threads != null ? threads : Math.max(1, Runtime.getRuntime().availableProcessors() / nproc);
        List<RankGroup.Member> ranks = localRanks(nnodes, nodeRank, nproc, at, perRank);
        return new RankGroup(sproutCommand(command), ranks, System.out, System.err, RankGroup.DEFAULT_GRACE).run();
    }

    /** Said once here rather than N times, each with the whole usage, by the ranks. */
    private void requireSproutCommand(String name) {
        Set<String> known = new TreeSet<>(spec.parent().subcommands().keySet());
        known.remove("launch");
        if (!known.contains(name)) {
            throw new Sprout.UserException("launch: '" + name + "' is not a sprout command; give one of " + String.join(", ", known) + " after --");
        }
    }

    /** The ranks of node {@code nodeRank}, with the environment each one gets. */
    static List<RankGroup.Member> localRanks(int nnodes, int nodeRank, int nproc, Rendezvous at, int threadsPerRank) {
        List<RankGroup.Member> ranks = new ArrayList<>();
        for (int local = 0; local < nproc; local++) {
            int rank = nodeRank * nproc + local;
            Map<String, String> env = new LinkedHashMap<>();
            env.put("MASTER_ADDR", at.host());
            env.put("MASTER_PORT", Integer.toString(at.port()));
            env.put("RANK", Integer.toString(rank));
            env.put("WORLD_SIZE", Integer.toString(nnodes * nproc));
            env.put("LOCAL_RANK", Integer.toString(local));
            env.put("LOCAL_WORLD_SIZE", Integer.toString(nproc));
            for (String var : List.of("SPROUT_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")) env.put(var, Integer.toString(threadsPerRank));
            ranks.add(new RankGroup.Member(rank, env));
        }
        return ranks;
    }

    /** HOST:PORT; the host may be a bracketed IPv6 address ([::1]:29500), given to the ranks without its brackets. */
    static Rendezvous parseMaster(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        String host = colon < 0 ? "" : hostPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        if (host.isBlank() || colon == hostPort.length() - 1) {
            throw new Sprout.UserException("--master: expected HOST:PORT, e.g. 10.0.0.1:29500, got '" + hostPort + "'");
        }
        String portText = hostPort.substring(colon + 1);
        int port;
        try {
            port = Integer.parseInt(portText);
        } catch (NumberFormatException e) {
            throw new Sprout.UserException("--master: the port must be a number from 1 to 65535, got '" + portText + "'");
        }
        if (port < 1 || port > 65535) throw new Sprout.UserException("--master: the port must be a number from 1 to 65535, got " + port);
        return new Rendezvous(host, port);
    }

    /**
     * A port free on 127.0.0.1 now, asked of the kernel by binding port 0. Another process could take it before rank 0
     * binds it; torchrun accepts the same race for single-machine runs.
     */
    private static int freeLocalPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    private static String childMain() {
        return System.getProperty(CHILD_MAIN_PROPERTY, Sprout.class.getName());
    }

    /** This JVM again (its java, its flags such as -D and --enable-native-access, its classpath), running {@code args}. */
    static List<String> sproutCommand(List<String> args) {
        List<String> c = new ArrayList<>();
        c.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        c.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        c.add("-cp");
        c.add(System.getProperty("java.class.path"));
        c.add(childMain());
        c.addAll(args);
        return c;
    }
}
