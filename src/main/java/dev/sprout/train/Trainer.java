package dev.sprout.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sprout.config.ConfigException;
import dev.sprout.config.ConfigLoader;
import dev.sprout.config.SproutConfig;
import dev.sprout.data.BatchSampler;
import dev.sprout.data.EvalWindows;
import dev.sprout.data.TokenDataset;
import dev.sprout.data.TokenizerFiles;
import dev.sprout.dist.Collectives;
import dev.sprout.tensor.Autocast;
import dev.sprout.dist.DistEnv;
import dev.sprout.dist.DistException;
import dev.sprout.method.Methods;
import dev.sprout.method.TrainingMethod;
import dev.sprout.tensor.Tensors;
import dev.sprout.model.Transformer;
import dev.sprout.optim.AdamW;
import dev.sprout.optim.LrSchedule;
import dev.sprout.subnet.SubnetPlan;
import dev.sprout.train.FlopsAccountant.Breakdown;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The training loop: one plan per optimizer step from the method, gradient accumulation over micro-batches,
 * global-norm clipping, AdamW, evaluation of the full model on fixed validation windows, metrics, checkpoints
 * and exact resume. Native memory of a step lives in that step's PointerScope; parameters and optimizer state
 * live outside it.
 *
 * <p>In a data-parallel job (the torchrun variables set: {@link DistEnv}) every rank runs this loop on its share of
 * each global batch; gradients are averaged before clipping, so every rank applies the same update, and the logged
 * loss, evaluation and stop decision are the job's. Rank 0 alone writes the run folder (config, metrics, checkpoints,
 * summary); every rank reads it to resume. Before anything is written the ranks check that they run the same
 * configuration, code and data.
 */
public final class Trainer implements AutoCloseable {
    /**
     * What `sprout train` was asked to do. data may be null on resume (the run remembers its data).
     *
     * @param force       start even when the run's memory estimate exceeds what the machine has free
     * @param tensorBoard write the run's curves as a TensorBoard events file too ({@link TensorBoardLog})
     */
    public record Options(Path config, Path data, Path out, List<String> overrides, Integer maxSteps, boolean resume, Path initFrom, boolean force,
                          boolean tensorBoard) {
        public Options(Path config, Path data, Path out, List<String> overrides, Integer maxSteps, boolean resume, Path initFrom) {
            this(config, data, out, overrides, maxSteps, resume, initFrom, false, true);
        }

        public Options(Path config, Path data, Path out, List<String> overrides, Integer maxSteps, boolean resume) {
            this(config, data, out, overrides, maxSteps, resume, null, false, true);
        }
    }

    private final SproutConfig cfg;
    private final Path runDir;
    private final Path dataDir;
    private final TokenDataset data;
    private final Device device;
    private final Transformer model;
    private final AdamW optimizer;
    private final TrainingMethod method;
    private final BatchSampler sampler;
    private final EvalWindows evalWindows;
    private final LrSchedule schedule;
    private final Checkpoints checkpoints;
    private final MetricsLog metrics;
    private final TensorBoardLog tensorBoard; // rank 0's, unless --no-tensorboard; null otherwise
    private final Progress progress;
    private final String dataFingerprint;
    private final MethodTraining training;
    private final RunLock lock; // rank 0's; null on other ranks
    private final Collectives dist;
    private final DistEnv env;

    private long step;
    private double tokens;
    private Breakdown flops = Breakdown.ZERO;
    private double paperFlops; // the incremental-training paper's cost model (FlopsAccountant.paperModel), for its ratios
    private double wallS;
    private double evalS; // cumulative like wallS, which leaves evaluation out
    private Double lastVal;
    private volatile boolean stopRequested;
    /** A new run's undo until its first checkpoint: a run that fails before one leaves its folder as it was. */
    private RunFolderRollback rollback;
    private RunEstimate estimate;

    private Trainer(SproutConfig cfg, Path runDir, Path dataDir, TokenDataset data, RunWeights init, PrintStream console, boolean tty, RunLock lock,
                    Collectives dist, boolean tensorBoard) throws IOException {
        this.lock = lock;
        this.dist = dist;
        this.env = dist.env();
        this.cfg = cfg;
        this.runDir = runDir;
        this.dataDir = dataDir;
        this.data = data;
        this.dataFingerprint = DataFingerprint.of(dataDir);
        Backend.init(cfg.threads());
        MemoryUse.resetPeak(); // this run's peak, not an earlier run's in the same process (compare)
        this.device = Backend.device(cfg.device(), env);
        this.training = new MethodTraining(cfg, device, init, dist);
        this.model = training.model;
        this.method = training.method;
        this.optimizer = training.optimizer;
        this.sampler = new BatchSampler(data, cfg.train().batchSize(), cfg.model().context(), cfg.seed(), env.rank(), env.worldSize());
        this.evalWindows = new EvalWindows(data, cfg.model().context(), cfg.train().evalTokens());
        this.schedule = LrSchedule.of(cfg.optim(), cfg.train().maxSteps());
        this.checkpoints = new Checkpoints(runDir.resolve("checkpoints"), cfg.checkpoint().keep());
        this.progress = new Progress(env.isRankZero() ? console : new PrintStream(java.io.OutputStream.nullOutputStream()), tty && env.isRankZero());
        method.notes().forEach(progress::message);
        long resumedAt = restoreLatest();
        if (env.distributed()) checkRanksAgree("parameters", parameterChecksum());
        this.metrics = env.isRankZero() ? MetricsLog.open(runDir.resolve("metrics.jsonl"), resumedAt) : null;
        try {
            this.tensorBoard = env.isRankZero() && tensorBoard ? TensorBoardLog.open(runDir) : null;
        } catch (IOException | RuntimeException e) {
            if (metrics != null) metrics.close();
            throw e;
        }
    }

    /**
     * Sets up a new run or resumes one, validating every input before anything in the run folder changes. Under the
     * torchrun variables this process is one rank of a data-parallel job ({@link DistEnv#fromEnvironment}).
     */
    public static Trainer open(Options o, PrintStream console, boolean tty) throws IOException {
        return open(o, console, tty, DistEnv.fromEnvironment());
    }

    /** {@link #open(Options, PrintStream, boolean)} as rank {@code env.rank()} of a job of {@code env.worldSize()}. */
    public static Trainer open(Options o, PrintStream console, boolean tty, DistEnv env) throws IOException {
        Plan p = plan(o, console, env, true);
        RunFolderRollback rollback = p.files() != null && p.newRun() && env.isRankZero() ? new RunFolderRollback(p.run()) : null;
        return started(p.cfg(), p.run(), p.dataDir(), p.ds(), p.init(), console, tty, env, o.tensorBoard(), rollback, p.files()).withEstimate(p.estimate());
    }

    /**
     * What `train --dry-run` prints: the resolved configuration and the run's estimate, and whether it would be refused.
     * Validates exactly what a real start validates; writes nothing.
     */
    public static String dryRun(Options o, PrintStream console) throws IOException {
        return dryRun(o, console, false);
    }

    /** The same, refusing (unless forced) a run that cannot fit the free memory, as a real start would: compare's check of every run. */
    public static String dryRun(Options o, PrintStream console, boolean checkMemory) throws IOException {
        Plan p = plan(o, console, DistEnv.fromEnvironment(), checkMemory);
        StringBuilder out = new StringBuilder(ConfigLoader.toYaml(p.cfg())).append("\n").append(p.estimate().describe()).append("\n");
        if (!p.estimate().fits()) {
            try {
                p.estimate().check(false);
            } catch (ConfigException e) {
                out.append("would be refused: ").append(e.getMessage()).append("\n");
            }
        }
        return out.toString();
    }

    /**
     * A run checked and resolved, nothing written yet.
     *
     * @param files what rank 0 writes when the run starts (a new run's first files; a resumed run's new config.yaml, and its tokenizer
     *              if it predates runs keeping theirs), or null
     */
    private record Plan(SproutConfig cfg, Path run, Path dataDir, TokenDataset ds, RunWeights init, RunEstimate estimate, RunFiles files, boolean newRun) {}

    /** @param checkMemory refuse (unless forced) a run whose estimate exceeds the free memory */
    private static Plan plan(Options o, PrintStream console, DistEnv env, boolean checkMemory) throws IOException {
        Path run = o.out();
        Path savedConfig = run.resolve("config.yaml");
        SproutConfig cfg;
        Path dataDir;
        if (o.resume()) {
            if (!Files.isRegularFile(savedConfig)) throw new ConfigException("--resume: " + run + " holds no run (no config.yaml)");
            cfg = ConfigLoader.bind(ConfigLoader.readYaml(savedConfig));
            RunInfo info = RunInfo.read(run);
            dataDir = o.data() != null ? o.data() : info.dataDir();
            if (o.config() != null) {
                SproutConfig asked = ConfigLoader.load(o.config(), o.overrides());
                SproutConfig resolved = asked.withModel(asked.model().resolve(cfg.model().vocabSize()));
                String diff = ConfigDiff.first(ConfigLoader.toYaml(cfg), ConfigLoader.toYaml(resolved));
                if (diff != null) throw new ConfigException("--resume: the run was started with a different configuration (" + diff + "); resume without --config or use a new --out");
            } else if (!o.overrides().isEmpty()) {
                for (String set : o.overrides()) {
                    String key = set.contains("=") ? set.substring(0, set.indexOf('=')).trim() : set;
                    if (!RESUMABLE_KEYS.contains(key) && !ConfigDiff.REPORTING_KEYS.contains(key) && !key.startsWith("dist.")) {
                        throw new ConfigException("--resume: --set cannot change a run in progress (only its length, train.max_steps, how its "
                                + "global batch is split, train.batch_size and train.grad_accum, dist.* and flops.peak_gflops); start a new run to change " + key);
                    }
                }
                cfg = ConfigLoader.withOverrides(cfg, o.overrides());
            }
            TokenDataset ds = DataLink.open(dataDir, cfg);
            String fp = DataFingerprint.of(dataDir);
            if (!fp.equals(info.dataFingerprint())) throw new ConfigException("--resume: the data in " + dataDir + " changed since the run started (meta.json differs)");
            if (o.initFrom() != null) throw new ConfigException("--init-from: applies to a new run only; a resumed run continues from its checkpoint");
            // the source's weights matter only to a run that has no checkpoint yet (and the source may be gone by now)
            boolean fromScratch = new Checkpoints(run.resolve("checkpoints"), cfg.checkpoint().keep()).list().isEmpty();
            RunWeights init = info.initFrom() != null && fromScratch ? RunWeights.initFrom(info.initFrom(), cfg, "--init-from") : null;
            SproutConfig now = cfg;
            RunEstimate estimate = estimate(cfg, env);
            if (checkMemory) estimate.check(o.force()); // an impossible run is refused before anything else is asked of it
            preflight(cfg, ds);
            // the run's config.yaml is its latest session's: rewritten when this session splits the global batch otherwise
            boolean split = !o.overrides().isEmpty();
            // a run from before runs kept their tokenizer takes it now, while its data is verifiably what it trained on
            boolean keepTokenizer = !TokenizerFiles.present(run);
            RunFiles files = !split && !keepTokenizer ? null : () -> {
                if (split) AtomicFiles.write(savedConfig, ConfigLoader.toYaml(now));
                if (keepTokenizer) RunTokenizer.write(run, ds.tokenizer());
            };
            return new Plan(cfg, run, dataDir, ds, init, estimate, files, false);
        }
        if (Files.exists(run.resolve("config.yaml")) || Files.isDirectory(run.resolve("checkpoints"))) {
            throw new ConfigException("--out: " + run + " already holds a run; pass --resume to continue it or choose another folder");
        }
        if (Files.exists(run) && !Files.isDirectory(run)) throw new ConfigException("--out: " + run + " is a file, not a folder");
        SproutConfig asked = ConfigLoader.load(o.config(), o.overrides());
        DataLink.NewRunData opened = DataLink.forNewRun(asked, o.data(), console);
        dataDir = opened.dir();
        TokenDataset ds = opened.data();
        cfg = opened.config();
        cfg.validate();
        Methods.build(cfg); // method settings that depend on the model (e.g. RaPTr's path lengths) fail here, before the run folder exists
        RunWeights init = null;
        if (o.initFrom() != null) {
            init = RunWeights.initFrom(o.initFrom(), cfg, "--init-from"); // a different model fails here, before the run folder exists
        }
        RunEstimate estimate = estimate(cfg, env);
        if (checkMemory) estimate.check(o.force()); // an impossible run is refused before anything else is asked of it
        preflight(cfg, ds);
        Path from = o.initFrom();
        SproutConfig resolved = cfg;
        Path data = dataDir;
        return new Plan(cfg, run, dataDir, ds, init, estimate, () -> {
            Files.createDirectories(run);
            // run.json and the tokenizer first: a folder with config.yaml is a run, and a run must know its data and own its tokenizer
            new RunInfo(data.toAbsolutePath(), DataFingerprint.of(data), ds.tokenizer().name(), from == null ? null : from.toAbsolutePath()).write(run);
            RunTokenizer.write(run, ds.tokenizer());
            AtomicFiles.write(run.resolve("config.yaml"), ConfigLoader.toYaml(resolved));
        }, true);
    }

    /** The run's cost, worked out before anything is built (the measured peak behind the step time depends on the threads). */
    private static RunEstimate estimate(SproutConfig cfg, DistEnv env) {
        Backend.init(cfg.threads());
        return RunEstimate.of(cfg, env.worldSize(), Backend.device(cfg.device()));
    }

    private Trainer withEstimate(RunEstimate e) {
        this.estimate = e;
        return this;
    }

    /**
     * Everything about a run that can fail before its first step, checked before anything is written: the device, and
     * whether the splits hold a training window and the evaluation windows for this context.
     */
    private static void preflight(SproutConfig cfg, TokenDataset ds) {
        Backend.device(cfg.device());
        new BatchSampler(ds, cfg.train().batchSize(), cfg.model().context(), cfg.seed());
        new EvalWindows(ds, cfg.model().context(), cfg.train().evalTokens());
    }

    /**
     * What --set may change on --resume: how the global batch is split over ranks and micro-batches, and the run's length
     * (a finished run extended: the learning-rate schedule, and the method's schedule where it is a share of the run, are
     * then those of the new length from the resumed step on).
     */
    private static final java.util.Set<String> RESUMABLE_KEYS = java.util.Set.of("train.batch_size", "train.grad_accum", "train.max_steps");

    /** Writes a new run's first files, or what a resumed run adds (rank 0 only, after the ranks agreed). */
    private interface RunFiles {
        void write() throws IOException;
    }

    /**
     * Joins the job (a job of one opens nothing), checks that every rank runs the same configuration, code and data,
     * then has rank 0 write a new run's files ({@code files}, null on resume) and take the run folder's lock, before
     * anything reads checkpoints or truncates metrics.jsonl.
     */
    private static Trainer started(SproutConfig cfg, Path run, Path dataDir, TokenDataset ds, RunWeights init, PrintStream console, boolean tty,
                                   DistEnv env, boolean tensorBoard, RunFolderRollback rollback, RunFiles files) throws IOException {
        Collectives dist = Collectives.open(env, java.time.Duration.ofSeconds(cfg.dist().timeoutS()), cfg.dist().bucketBytes(), Backend.device(cfg.device(), env));
        RunLock lock = null;
        try {
            if (env.distributed()) checkRanksAgree(dist, cfg, dataDir);
            if (env.isRankZero()) {
                if (files != null) files.write();
                lock = RunLock.acquire(run);
            }
            Trainer t = new Trainer(cfg, run, dataDir, ds, init, console, tty, lock, dist, tensorBoard);
            t.rollback = rollback;
            return t;
        } catch (Throwable t) {
            if (lock != null) lock.close();
            dist.close();
            if (rollback != null) rollback.undo(console);
            throw t;
        }
    }

    /**
     * Every rank's resolved configuration (what it computes: ConfigDiff), code and data against rank 0's; the first that
     * differs stops every rank with the same line, naming the rank and what differs.
     */
    private static void checkRanksAgree(Collectives dist, SproutConfig cfg, Path dataDir) {
        String yaml = ConfigLoader.toYaml(cfg);
        List<String> configs = dist.exchange("config", yaml);
        for (int r = 1; r < configs.size(); r++) {
            String diff = ConfigDiff.first(configs.get(0), configs.get(r));
            if (diff != null) throw new DistException("rank " + r + "'s configuration differs from rank 0's at " + diff);
        }
        List<String> code = dist.exchange("code", CodeVersion.current());
        List<String> data = dist.exchange("data", DataFingerprint.of(dataDir));
        for (int r = 1; r < code.size(); r++) {
            if (!code.get(r).equals(code.get(0))) throw new DistException("rank " + r + " runs other code than rank 0 (code version " + code.get(r) + " vs " + code.get(0) + ")");
            if (!data.get(r).equals(data.get(0))) throw new DistException("rank " + r + "'s data differs from rank 0's (data fingerprint " + data.get(r) + " vs " + data.get(0) + ")");
        }
    }

    /** Stops every rank when their values of {@code what} differ (the same parameters at start, and every dist.check_every steps). */
    private void checkRanksAgree(String what, String mine) {
        List<String> all = dist.exchange(what + "@" + step, mine);
        for (int r = 1; r < all.size(); r++) {
            if (!all.get(r).equals(all.get(0))) throw new DistException("rank " + r + "'s " + what + " differ from rank 0's at step " + step + " (checksum " + all.get(r) + " vs " + all.get(0) + ")");
        }
    }

    /** A checksum of every parameter's values (float64 sums of x and x^2 per tensor, hashed): equal exactly when nothing diverged. */
    String parameterChecksum() {
        java.security.MessageDigest sha;
        try {
            sha = java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(16);
            for (var e : model.parameters().entrySet()) {
                Tensor d = e.getValue().to(torch.ScalarType.Double);
                buf.clear();
                buf.putDouble(d.sum().item_double()).putDouble(d.mul(d).sum().item_double());
                sha.update(e.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                sha.update(buf.array());
            }
        }
        return java.util.HexFormat.of().formatHex(sha.digest(), 0, 8);
    }

    public SproutConfig config() {
        return cfg;
    }

    public Transformer model() {
        return model;
    }

    public long step() {
        return step;
    }

    /** Asks the loop to stop after the current step (with a checkpoint; in a job, every rank stops there). Safe from any thread. */
    public void requestStop() {
        stopRequested = true;
    }

    /** Trains until step {@code stopAt} (at most train.max_steps), evaluating and checkpointing on the way. */
    public Summary train(Integer stopAt) throws IOException {
        try {
            return trainSteps(stopAt);
        } catch (Throwable t) {
            if (rollback != null) { // failed before its first checkpoint: leave the folder as it was before the command
                if (metrics != null) metrics.close();
                if (lock != null) lock.close();
                rollback.undo(System.err);
                rollback = null;
            }
            throw t;
        }
    }

    private Summary trainSteps(Integer stopAt) throws IOException {
        int total = cfg.train().maxSteps();
        long end = stopAt == null ? total : Math.min(total, stopAt);
        int accum = cfg.train().gradAccum(), b = cfg.train().batchSize(), t = cfg.model().context(), world = env.worldSize();
        long tokensPerStep = (long) world * accum * b * t;
        PeakFlops.Peak peakPerRank = PeakFlops.of(cfg, device);
        double peak = peakPerRank.gflops() * 1e9 * world;
        long startStep = step;
        double fullStepFlops = training.flops(SubnetPlan.full(cfg.model().nLayer())).total();
        if (step == 0) {
            progress.message(String.format("sprout: %s, %,d parameters, %s on %s, %d steps of %,d tokens%s",
                    cfg.model().family(), cfg.model().paramCount(), method.name(), cfg.device(), total, tokensPerStep,
                    world > 1 ? String.format(" (%d ranks x %d sequences x %d micro-batches)", world, b, accum) : ""));
            progress.message(String.format(java.util.Locale.ROOT, "sprout: %s precision; MFU against %.1f GFLOP/s%s (%s)", cfg.train().precision(),
                    peakPerRank.gflops(), world > 1 ? " per rank" : "", peakPerRank.source()));
            if (estimate != null) progress.message("sprout: " + estimate.describe());
            if (cfg.optim().warmupSteps() >= total) {
                progress.message(String.format("sprout: warning: optim.warmup_steps (%d) >= train.max_steps (%d): the run ends before its warmup does, so the schedule never decays",
                        cfg.optim().warmupSteps(), total));
            }
        } else {
            progress.message("sprout: resumed at step " + step + " of " + total);
        }
        if (stopAt != null && stopAt > total) {
            progress.message("note: --max-steps " + stopAt + " is beyond train.max_steps " + total + ": the run ends at " + total
                    + " (to go on, resume with --set train.max_steps=" + stopAt + ")");
        }
        RateWindow window = new RateWindow();
        boolean stop = false;
        while (step < end && !stop) {
            long t0 = System.nanoTime(), comm0 = dist.commNanos(), bytes0 = dist.bytesReduced();
            MethodTraining.Step done = training.step(step, schedule.at(step), sampler);
            SubnetPlan plan = done.plan();
            double lr = done.lr(), loss = done.result().loss(), gradNorm = done.result().gradNorm();
            // the job's mean loss, and whether any rank was asked to stop: every rank then stops after this same step
            double[] job = dist.sum(loss, stopRequested ? 1 : 0);
            loss = job[0] / world;
            stop = job[1] > 0;
            double ms = (System.nanoTime() - t0) / 1e6, commMs = (dist.commNanos() - comm0) / 1e6;
            step++;
            wallS += ms / 1e3;
            tokens += tokensPerStep;
            Breakdown stepFlops = training.flops(plan);
            flops = flops.plus(stepFlops);
            paperFlops += training.paperFlops(plan);
            if (!Double.isFinite(loss)) {
                progress.message("error: loss became " + loss + " at step " + step + "; stopping (the last checkpoint is intact)");
                throw new TrainingDivergedException("loss became " + loss + " at step " + step);
            }

            double stepS = ms / 1e3;
            ObjectNode row = MetricsLog.JSON.createObjectNode();
            row.put("step", step).put("tokens", (long) tokens).put("flops", flops.total()).put("wall_s", round(wallS))
                    .put("loss", loss).put("lr", lr).put("grad_norm", gradNorm).put("step_ms", round(ms));
            if (stepS > 0) { // this step's own rates (the progress line averages them over its window)
                row.put("tokens_per_s", Math.round(tokensPerStep / stepS * 10) / 10.0).put("mfu", significant(stepFlops.total() / stepS / peak));
            }
            if (world > 1) row.put("comm_ms", round(commMs)).put("comm_bytes", dist.bytesReduced() - bytes0);
            String stage = method.stage(step - 1);
            if (stage != null) row.put("stage", stage);
            if (!plan.isFull()) row.put("active_fraction", stepFlops.total() / fullStepFlops);
            boolean last = step == end;
            int evalEvery = cfg.train().evalEvery();
            if (last || (evalEvery > 0 && step % evalEvery == 0)) {
                progress.evaluating(step);
                long e0 = System.nanoTime();
                lastVal = evaluate();
                evalS += (System.nanoTime() - e0) / 1e9;
                row.put("val_loss", lastVal);
            }
            int checkEvery = cfg.dist().checkEvery();
            if (world > 1 && checkEvery > 0 && step % checkEvery == 0) checkRanksAgree("parameters", parameterChecksum());
            if (metrics != null) metrics.write(row);
            if (tensorBoard != null) tensorBoard.write(row);

            window.add(ms, tokensPerStep, stepFlops.total());
            boolean logLine = last || step % cfg.train().logEvery() == 0 || step == startStep + 1 || row.has("val_loss");
            RateWindow.Rates rates = window.rates(peak);
            progress.step(step, total, loss, row.has("val_loss") ? lastVal : null, lr, rates, (end - step) * rates.msPerStep() / 1e3, logLine);
            if (logLine) window.reset();
            int every = cfg.checkpoint().every();
            // with a sharded optimizer every rank takes part: the owners send rank 0 their state
            boolean writes = env.isRankZero() || training.owners != null;
            if (writes && (last || stop || (every > 0 && step % every == 0))) saveCheckpoint();
        }
        progress.finish();
        Summary s = summary(step >= total);
        if (env.isRankZero()) s.write(runDir);
        return s;
    }

    /** Mean loss of the full model on the fixed validation windows (every rank gets the job's mean: {@link Evaluation}). */
    public double evaluate() {
        return Evaluation.meanLoss(model, evalWindows, cfg.train().batchSize(), cfg.train().precision(), dist);
    }

    /** Rank 0 writes the checkpoint; with a sharded optimizer every rank calls this, to send rank 0 its share of the state. */
    private void saveCheckpoint() throws IOException {
        try (PointerScope gathered = new PointerScope()) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            model.parameters().forEach((k, v) -> tensors.put("param." + k, v));
            OptimizerCheckpoint.addTo(tensors, optimizer, training.owners, dist);
            if (env.isRankZero()) write(tensors);
            rollback = null; // a checkpoint exists: from now on the run is worth keeping
        }
    }

    private void write(Map<String, Tensor> tensors) throws IOException {
        tensors.put("rng.torch_cpu", torch.getDefaultCPUGenerator().get_state());
        ObjectNode state = MetricsLog.JSON.createObjectNode();
        state.put("format_version", 1).put("step", step).put("tokens", tokens).put("wall_s", wallS).put("eval_s", evalS)
                .put("sampler_position", sampler.position()).put("config", ConfigLoader.toYaml(cfg))
                .put("data_fingerprint", dataFingerprint).put("world_size", env.worldSize()).put("batch_size", cfg.train().batchSize())
                .put("grad_accum", cfg.train().gradAccum()).put("global_batch", (long) env.worldSize() * cfg.train().batchSize() * cfg.train().gradAccum());
        // the description (not an hf tokenizer.json itself): a checkpoint on its own says which vocabulary its ids are in
        state.set("tokenizer", data.tokenizer().spec().toJson());
        if (lastVal != null) state.put("last_val_loss", lastVal);
        ObjectNode f = state.putObject("flops");
        f.put("attn_proj", flops.attnProj()).put("attn_scores", flops.attnScores()).put("mlp", flops.mlp()).put("head", flops.head())
                .put("paper_model", paperFlops);
        state.set("method", method.state());
        method.tensors().forEach((k, v) -> tensors.put("method." + k, v));
        try (PointerScope scope = new PointerScope()) {
            checkpoints.save(step, tensors, state);
        }
    }

    /** Restores the newest intact checkpoint, if any; a damaged newer one is reported and skipped. Returns its step. */
    private long restoreLatest() {
        Checkpoints.Loaded ck = checkpoints.latestIntact(progress::message);
        if (ck == null) return 0;
        apply(ck);
        return step;
    }

    private void apply(Checkpoints.Loaded ck) {
        ObjectNode st = ck.state();
        // bound, so that today's defaults fill in a key added since the checkpoint was written (e.g. train.precision):
        // it is not a difference when the run uses its default
        SproutConfig saved = ConfigLoader.bind(readYaml(st.path("config").asText()));
        String diff = ConfigDiff.first(ConfigLoader.toYaml(saved), ConfigLoader.toYaml(cfg), true);
        if (diff != null) throw new CheckpointException("checkpoint " + ck.file() + " belongs to a different configuration (" + diff + ")");
        checkGlobalBatch(ck, st, saved);
        int savedSteps = saved.train().maxSteps();
        if (savedSteps != cfg.train().maxSteps()) {
            progress.message("sprout: train.max_steps " + savedSteps + " -> " + cfg.train().maxSteps() + ": from step " + st.path("step").asLong()
                    + " on, the learning-rate schedule (and a method's schedule given in shares of the run) are those of " + cfg.train().maxSteps() + " steps");
        }
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            for (var e : model.parameters().entrySet()) Checkpoints.copyInto(ck, "param." + e.getKey(), e.getValue());
            OptimizerCheckpoint.restore(ck, optimizer);
            for (var e : method.tensors().entrySet()) Checkpoints.copyInto(ck, "method." + e.getKey(), e.getValue());
            Tensor rng = ck.tensors().get("rng.torch_cpu");
            if (rng != null) torch.getDefaultCPUGenerator().set_state(rng);
        }
        step = st.path("step").asLong();
        tokens = st.path("tokens").asDouble();
        wallS = st.path("wall_s").asDouble();
        evalS = st.path("eval_s").asDouble(); // 0 in checkpoints written before it was kept
        lastVal = st.has("last_val_loss") ? st.get("last_val_loss").asDouble() : null;
        JsonNode f = st.path("flops");
        flops = new Breakdown(f.path("attn_proj").asDouble(), f.path("attn_scores").asDouble(), f.path("mlp").asDouble(), f.path("head").asDouble());
        paperFlops = f.path("paper_model").asDouble();
        sampler.seek(st.path("sampler_position").asLong());
        method.restore(st.path("method"));
    }

    /**
     * A run resumes with another world size, batch size or accumulation only when the global batch (sequences per
     * optimizer step) is the checkpoint's: the step then sees the same windows and the sampler's position means the same.
     */
    private void checkGlobalBatch(Checkpoints.Loaded ck, ObjectNode st, SproutConfig old) {
        long now = (long) env.worldSize() * cfg.train().batchSize() * cfg.train().gradAccum();
        long then;
        String split;
        if (st.has("global_batch")) {
            then = st.get("global_batch").asLong();
            split = st.path("world_size").asInt(1) + " rank(s) x " + st.path("batch_size").asInt() + " sequences x " + st.path("grad_accum").asInt() + " micro-batches";
        } else { // written before data-parallel training: one process
            then = (long) old.train().batchSize() * old.train().gradAccum();
            split = "1 rank x " + old.train().batchSize() + " sequences x " + old.train().gradAccum() + " micro-batches";
        }
        if (now != then) {
            throw new CheckpointException("checkpoint " + ck.file() + " was written with a global batch of " + then + " sequences (" + split + "); this job has "
                    + now + " (" + env.worldSize() + " rank(s) x " + cfg.train().batchSize() + " x " + cfg.train().gradAccum()
                    + "): resume with --set train.batch_size=B --set train.grad_accum=A such that WORLD_SIZE x B x A = " + then);
        }
    }

    private static JsonNode readYaml(String yaml) {
        try {
            return ConfigLoader.YAML.readTree(yaml);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private Summary summary(boolean complete) {
        return new Summary(lastVal == null ? Double.NaN : lastVal, step, (long) tokens, flops.total(), round(wallS), round(evalS),
                cfg.model().paramCount(), method.name(), complete, flops, paperFlops, tokens / cfg.model().paramCount(),
                MemoryUse.of(model, optimizer));
    }

    private static double round(double v) {
        return Math.round(v * 1e4) / 1e4;
    }

    /** Four significant digits: a CPU's MFU may be 0.0001, which four decimals would round away. */
    static double significant(double v) {
        if (v == 0 || !Double.isFinite(v)) return v;
        return new java.math.BigDecimal(v).round(new java.math.MathContext(4)).doubleValue();
    }

    /**
     * Closes the metrics and TensorBoard files, frees the run's native memory ({@link MethodTraining#release}), leaves the job's process
     * group and unlocks the run folder.
     */
    @Override
    public void close() throws IOException {
        try {
            try {
                if (metrics != null) metrics.close();
            } finally {
                if (tensorBoard != null) tensorBoard.close();
            }
        } finally {
            try {
                training.release();
            } finally {
                try {
                    dist.close();
                } finally {
                    if (lock != null) lock.close();
                }
            }
        }
    }

    /** The loss turned NaN or infinite. */
    public static final class TrainingDivergedException extends RuntimeException {
        public TrainingDivergedException(String m) {
            super(m);
        }
    }
}
