package dev.sprout.cli;

import dev.sprout.config.ConfigException;
import dev.sprout.data.DataException;
import dev.sprout.train.CheckpointException;
import dev.sprout.train.Trainer;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The `sprout` command line. User errors print one line and exit 2; bugs print a stack trace and exit 1. */
@Command(name = "sprout", mixinStandardHelpOptions = true, version = "sprout 0.1.0",
        description = "Pretrain GPT-2 and Llama models on libtorch; train growing subnetworks to save compute.",
        subcommands = {PrepareCommand.class, TrainCommand.class, SampleCommand.class, EvalCommand.class, BenchCommand.class, CompareCommand.class, ExportCommand.class,
                LaunchCommand.class})
public final class Sprout implements Runnable {
    public static final int USER_ERROR = 2;

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs a command line and returns its exit code (tests call this). */
    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new Sprout());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (isUserError(ex)) {
                cmd.getErr().println("error: " + ex.getMessage());
                cmd.getErr().flush();
                return USER_ERROR;
            }
            throw ex;
        });
        // one style for every error: a bad option is "error: ..." on one line, with picocli's nearest option as a hint
        cl.setParameterExceptionHandler((ex, parsed) -> {
            CommandLine cmd = ex.getCommandLine();
            String hint = "";
            if (ex instanceof CommandLine.UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
                String typed = u.getUnmatched().get(0);
                java.util.List<String> names = new java.util.ArrayList<>(cmd.getSubcommands().keySet());
                cmd.getCommandSpec().options().forEach(o -> names.addAll(java.util.List.of(o.names())));
                hint = dev.sprout.config.Check.closest(typed, names).map(n -> " (did you mean '" + n + "'?)").orElse("");
            }
            String name = cmd.getCommandSpec().qualifiedName();
            cmd.getErr().println("error: " + ex.getMessage() + hint + "; " + name + " --help lists the options");
            cmd.getErr().flush();
            return USER_ERROR;
        });
        return cl.execute(args);
    }

    static boolean isUserError(Throwable ex) {
        return ex instanceof ConfigException || ex instanceof DataException || ex instanceof CheckpointException
                || ex instanceof Trainer.TrainingDivergedException || ex instanceof UserException || ex instanceof dev.sprout.dist.DistException;
    }

    /** A bad command-line input detected by a command itself. */
    public static final class UserException extends RuntimeException {
        public UserException(String m) {
            super(m);
        }
    }
}
