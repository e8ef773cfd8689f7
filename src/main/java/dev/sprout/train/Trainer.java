package dev.sprout.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sprout.config.ConfigException;
import dev.sprout.config.ConfigLoader;
import dev.sprout.config.SproutConfig;
import dev.sprout.data.BatchSampler;
import dev.sprout.data.EvalWindows;
import dev.sprout.data.TokenDataset;
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
 */
public final class Trainer implements AutoCloseable {
    /** What `sprout train` was asked to do. data may be null on resume (the run remembers its data). */
    public record Options(Path config, Path data, Path out, List<String> overrides, Integer maxSteps, boolean resume, Path initFrom) {
        public Options(Path config, Path data, Path out, List<String> overrides, Integer maxSteps, boolean resume) {
            this(config, data, out, overrides, maxSteps, resume, null);
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
    private final Progress progress;
    private final String dataFingerprint;
    private final MethodTraining training;
    private final RunLock lock;

    private long step;
    private double tokens;
    private Breakdown flops = Breakdown.ZERO;
    private double paperFlops; // the incremental-training paper's cost model (FlopsAccountant.paperModel), for its ratios
    private double wallS;
    private Double lastVal;
    private volatile boolean stopRequested;

    private Trainer(SproutConfig cfg, Path runDir, Path dataDir, TokenDataset data, RunWeights init, PrintStream console, boolean tty, RunLock lock) throws IOException {
        this.lock = lock;
        this.cfg = cfg;
        this.runDir = runDir;
        this.dataDir = dataDir;
        this.data = data;
        this.dataFingerprint = DataFingerprint.of(dataDir);
        Backend.init(cfg.threads());
        MemoryUse.resetPeak(); // this run's peak, not an earlier run's in the same process (compare)
        this.device = Backend.device(cfg.device());
        this.training = new MethodTraining(cfg, device, init);
        this.model = training.model;
        this.method = training.method;
        this.optimizer = training.optimizer;
        this.sampler = new BatchSampler(data, cfg.train().batchSize(), cfg.model().context(), cfg.seed());
        this.evalWindows = new EvalWindows(data, cfg.model().context(), cfg.train().evalTokens());
        this.schedule = LrSchedule.of(cfg.optim(), cfg.train().maxSteps());
        this.checkpoints = new Checkpoints(runDir.resolve("checkpoints"), cfg.checkpoint().keep());
        this.progress = new Progress(console, tty);
        method.notes().forEach(progress::message);
        long resumedAt = restoreLatest();
        this.metrics = MetricsLog.open(runDir.resolve("metrics.jsonl"), resumedAt);
    }

    /** Sets up a new run or resumes one, validating every input before anything in the run folder changes. */
    public static Trainer open(Options o, PrintStream console, boolean tty) throws IOException {
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
                throw new ConfigException("--resume: --set cannot change a run in progress; start a new run to change " + o.overrides().get(0));
            }
            TokenDataset ds = DataLink.open(dataDir, cfg);
            String fp = DataFingerprint.of(dataDir);
            if (!fp.equals(info.dataFingerprint())) throw new ConfigException("--resume: the data in " + dataDir + " changed since the run started (meta.json differs)");
            if (o.initFrom() != null) throw new ConfigException("--init-from: applies to a new run only; a resumed run continues from its checkpoint");
            // the source's weights matter only to a run that has no checkpoint yet (and the source may be gone by now)
            boolean fromScratch = new Checkpoints(run.resolve("checkpoints"), cfg.checkpoint().keep()).list().isEmpty();
            RunWeights init = info.initFrom() != null && fromScratch ? RunWeights.read(info.initFrom()) : null;
            return locked(cfg, run, dataDir, ds, init, console, tty);
        }
        if (Files.exists(run.resolve("config.yaml")) || Files.isDirectory(run.resolve("checkpoints"))) {
            throw new ConfigException("--out: " + run + " already holds a run; pass --resume to continue it or choose another folder");
        }
        if (Files.exists(run) && !Files.isDirectory(run)) throw new ConfigException("--out: " + run + " is a file, not a folder");
        SproutConfig asked = ConfigLoader.load(o.config(), o.overrides());
        dataDir = o.data() != null ? o.data() : BuiltinCorpus.ensure(asked, console);
        TokenDataset ds = DataLink.open(dataDir, asked);
        cfg = asked.withModel(asked.model().resolve(ds.vocabSize()));
        cfg.validate();
        Methods.build(cfg); // method settings that depend on the model (e.g. RaPTr's path lengths) fail here, before the run folder exists
        RunWeights init = null;
        if (o.initFrom() != null) {
            init = RunWeights.read(o.initFrom());
            init.checkModel(cfg.model(), "--init-from"); // a different model fails here, before the run folder exists
        }
        Files.createDirectories(run);
        // run.json first: a folder with config.yaml is a run, and a run must know its data
        new RunInfo(dataDir.toAbsolutePath(), DataFingerprint.of(dataDir), ds.tokenizer().name(),
                o.initFrom() == null ? null : o.initFrom().toAbsolutePath()).write(run);
        AtomicFiles.write(run.resolve("config.yaml"), ConfigLoader.toYaml(cfg));
        return locked(cfg, run, dataDir, ds, init, console, tty);
    }

    /** A trainer holding the run folder's lock, taken before anything reads checkpoints or truncates metrics.jsonl. */
    private static Trainer locked(SproutConfig cfg, Path run, Path dataDir, TokenDataset ds, RunWeights init, PrintStream console, boolean tty) throws IOException {
        RunLock lock = RunLock.acquire(run);
        try {
            return new Trainer(cfg, run, dataDir, ds, init, console, tty, lock);
        } catch (Throwable t) {
            lock.close();
            throw t;
        }
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

    /** Asks the loop to stop after the current step (with a checkpoint). Safe from any thread. */
    public void requestStop() {
        stopRequested = true;
    }

    /** Trains until step {@code stopAt} (at most train.max_steps), evaluating and checkpointing on the way. */
    public Summary train(Integer stopAt) throws IOException {
        int total = cfg.train().maxSteps();
        long end = stopAt == null ? total : Math.min(total, stopAt);
        int accum = cfg.train().gradAccum(), b = cfg.train().batchSize(), t = cfg.model().context();
        double peak = cfg.flops().peakGflops() * 1e9;
        long startStep = step;
        double fullStepFlops = training.flops(SubnetPlan.full(cfg.model().nLayer())).total();
        if (step == 0) progress.message(String.format("sprout: %s, %,d parameters, %s on %s, %d steps of %,d tokens",
                cfg.model().family(), cfg.model().paramCount(), method.name(), cfg.device(), total, (long) accum * b * t));
        else progress.message("sprout: resumed at step " + step + " of " + total);
        double windowMs = 0;
        int windowSteps = 0;
        while (step < end && !stopRequested) {
            long t0 = System.nanoTime();
            MethodTraining.Step done = training.step(step, schedule.at(step), sampler);
            SubnetPlan plan = done.plan();
            double lr = done.lr(), loss = done.result().loss(), gradNorm = done.result().gradNorm();
            double ms = (System.nanoTime() - t0) / 1e6;
            step++;
            wallS += ms / 1e3;
            tokens += (double) accum * b * t;
            Breakdown stepFlops = training.flops(plan);
            flops = flops.plus(stepFlops);
            paperFlops += training.paperFlops(plan);
            if (!Double.isFinite(loss)) {
                progress.message("error: loss became " + loss + " at step " + step + "; stopping (the last checkpoint is intact)");
                throw new TrainingDivergedException("loss became " + loss + " at step " + step);
            }

            ObjectNode row = MetricsLog.JSON.createObjectNode();
            row.put("step", step).put("tokens", (long) tokens).put("flops", flops.total()).put("wall_s", round(wallS))
                    .put("loss", loss).put("lr", lr).put("grad_norm", gradNorm).put("step_ms", round(ms));
            String stage = method.stage(step - 1);
            if (stage != null) row.put("stage", stage);
            if (!plan.isFull()) row.put("active_fraction", stepFlops.total() / fullStepFlops);
            boolean last = step == end;
            int evalEvery = cfg.train().evalEvery();
            if (last || (evalEvery > 0 && step % evalEvery == 0)) {
                lastVal = evaluate();
                row.put("val_loss", lastVal);
            }
            metrics.write(row);

            windowMs += ms;
            windowSteps++;
            boolean logLine = last || step % cfg.train().logEvery() == 0 || step == startStep + 1 || row.has("val_loss");
            double msPerStep = windowMs / windowSteps;
            progress.step(step, total, loss, row.has("val_loss") ? lastVal : null, lr, msPerStep,
                    accum * b * t / (msPerStep / 1e3), stepFlops.total() / (ms / 1e3) / 1e9,
                    stepFlops.total() / (ms / 1e3) / peak, (end - step) * msPerStep / 1e3, logLine);
            if (logLine) {
                windowMs = 0;
                windowSteps = 0;
            }
            int every = cfg.checkpoint().every();
            if (last || stopRequested || (every > 0 && step % every == 0)) saveCheckpoint();
        }
        progress.finish();
        Summary s = summary(step >= total);
        s.write(runDir);
        return s;
    }

    /** Mean loss of the full model on the fixed validation windows, without scaling or gradients. */
    public double evaluate() {
        int b = cfg.train().batchSize(), t = cfg.model().context();
        SubnetPlan full = SubnetPlan.full(cfg.model().nLayer());
        double sum = 0;
        long count = 0;
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            long[] x = new long[b * t], y = new long[b * t];
            for (int k = 0; k < evalWindows.batches(b); k++) {
                try (PointerScope batchScope = new PointerScope()) { // one batch's activations at a time, not the whole eval set's
                    int rows = evalWindows.batch(k, b, x, y);
                    long[] xs = rows == b ? x : java.util.Arrays.copyOf(x, rows * t), ys = rows == b ? y : java.util.Arrays.copyOf(y, rows * t);
                    sum += model.meanLoss(Tensors.longTensor(xs, device, rows, t), Tensors.longTensor(ys, device, rows, t), full) * rows;
                    count += rows;
                }
            }
        }
        return sum / count;
    }

    private void saveCheckpoint() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        model.parameters().forEach((k, v) -> tensors.put("param." + k, v));
        OptimizerCheckpoint.addTo(tensors, optimizer);
        tensors.put("rng.torch_cpu", torch.getDefaultCPUGenerator().get_state());
        ObjectNode state = MetricsLog.JSON.createObjectNode();
        state.put("format_version", 1).put("step", step).put("tokens", tokens).put("wall_s", wallS)
                .put("sampler_position", sampler.position()).put("config", ConfigLoader.toYaml(cfg))
                .put("data_fingerprint", dataFingerprint);
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
        String saved = st.path("config").asText();
        String diff = ConfigDiff.first(saved, ConfigLoader.toYaml(cfg));
        if (diff != null) throw new CheckpointException("checkpoint " + ck.file() + " belongs to a different configuration (" + diff + ")");
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
        lastVal = st.has("last_val_loss") ? st.get("last_val_loss").asDouble() : null;
        JsonNode f = st.path("flops");
        flops = new Breakdown(f.path("attn_proj").asDouble(), f.path("attn_scores").asDouble(), f.path("mlp").asDouble(), f.path("head").asDouble());
        paperFlops = f.path("paper_model").asDouble();
        sampler.seek(st.path("sampler_position").asLong());
        method.restore(st.path("method"));
    }

    private Summary summary(boolean complete) {
        return new Summary(lastVal == null ? Double.NaN : lastVal, step, (long) tokens, flops.total(), round(wallS),
                cfg.model().paramCount(), method.name(), complete, flops, paperFlops, tokens / cfg.model().paramCount(),
                MemoryUse.of(model, optimizer));
    }

    private static double round(double v) {
        return Math.round(v * 1e4) / 1e4;
    }

    @Override
    /** Closes the metrics file, frees the run's native memory ({@link MethodTraining#release}) and unlocks the run folder. */
    public void close() throws IOException {
        try {
            metrics.close();
        } finally {
            try {
                training.release();
            } finally {
                lock.close();
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
