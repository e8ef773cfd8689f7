package dev.sprout.cli;

import dev.sprout.train.Summary;
import dev.sprout.train.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.io.OutputStream;
import java.io.PrintStream;
import dev.sprout.dist.DistEnv;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `sprout train`: train (or resume) a run into a run folder. */
@Command(name = "train", mixinStandardHelpOptions = true, description = "Train a model; writes config.yaml, metrics.jsonl, metrics.csv, TensorBoard events (events.out.tfevents.*), "
        + "checkpoints/ and summary.json into --out.")
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", description = "Run configuration (YAML). Required for a new run.")
    Path config;

    @Option(names = "--data", paramLabel = "DIR", description = "Prepared data folder (from `sprout prepare`). Default: the built-in Europarl corpus, prepared on first use.")
    Path data;

    @Option(names = "--out", required = true, paramLabel = "RUN_DIR", description = "Run folder.")
    Path out;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a config key, e.g. --set train.grad_accum=4 (repeatable).")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--max-steps", paramLabel = "N", description = "Stop at step N (the LR schedule still follows train.max_steps).")
    Integer maxSteps;

    @Option(names = "--resume", description = "Continue the run in --out from its newest intact checkpoint.")
    boolean resume;

    @Option(names = "--init-from", paramLabel = "DIR", description = "Start a new run from another run's newest weights (same model; "
            + "adapters merged into dense weights; a fresh optimizer at step 0), for continued pretraining or fine-tuning. DIR is a Sprout run, "
            + "an export, or a Hugging Face folder (config.json and model.safetensors of a GPT2LMHeadModel or LlamaForCausalLM) "
            + "whose config.json must match this run's model.")
    Path initFrom;

    @Option(names = "--dry-run", description = "Check everything, print the resolved configuration and the run's estimate (parameters, FLOPs per step, "
            + "step time, peak memory), and exit without writing anything.")
    boolean dryRun;

    @Option(names = "--force", description = "Start even when the estimated peak memory exceeds what the machine has free.")
    boolean force;

    @Option(names = "--stop-grace", paramLabel = "SECONDS", description = "After a first Ctrl-C or SIGTERM, the time the current step and its checkpoint "
            + "get before the run stops at once (default: 300); a second signal always stops at once.")
    long stopGrace = SignalSafeTraining.DEFAULT_GRACE.toSeconds();

    @Option(names = "--no-tensorboard", description = "Write no TensorBoard events file (by default the run folder gets one: "
            + "tensorboard --logdir RUN_DIR shows its curves live).")
    boolean noTensorBoard;

    @Override
    public Integer call() throws Exception {
        if (config == null && !resume) throw new Sprout.UserException("--config is required for a new run (or pass --resume)");
        if (maxSteps != null && maxSteps < 1) throw new Sprout.UserException("--max-steps: must be >= 1, got " + maxSteps);
        if (stopGrace < 1) throw new Sprout.UserException("--stop-grace: must be >= 1 second, got " + stopGrace);
        Trainer.Options options = new Trainer.Options(config, data, out, overrides, maxSteps, resume, initFrom, force, !noTensorBoard);
        if (dryRun) {
            System.out.print(Trainer.dryRun(options, System.out));
            return 0;
        }
        DistEnv env = DistEnv.fromEnvironment(); // a bad set of torchrun variables fails here, before anything else
        // in a data-parallel job rank 0 speaks for all; the others print only their errors
        PrintStream console = env.isRankZero() ? System.out : new PrintStream(OutputStream.nullOutputStream());
        String again = env.distributed() ? "the same launch command with: train --out " + out + " --resume" : "sprout train --out " + out + " --resume";
        Summary s = SignalSafeTraining.run(options, console, System.console() != null, "stopped after a checkpoint; continue with " + again,
                java.time.Duration.ofSeconds(stopGrace));
        if (s == null) return 130;
        console.printf(Locale.ROOT, "done: step %d, val loss %.4f, %.3e FLOPs, %.1f s of training, %.1f s of evaluation -> %s%n",
                s.steps(), s.finalValLoss(), s.flops(), s.wallS(), s.evalS(), out.resolve("summary.json"));
        return 0;
    }
}
