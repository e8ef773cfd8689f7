package dev.sprout.cli;

import dev.sprout.config.ConfigException;
import dev.sprout.config.ConfigLoader;
import dev.sprout.config.SproutConfig;
import dev.sprout.report.CompareReport;
import dev.sprout.report.ComparePlots;
import dev.sprout.report.HtmlReport;
import dev.sprout.report.RunResult;
import dev.sprout.train.AtomicFiles;
import dev.sprout.train.ConfigDiff;
import dev.sprout.train.DataFingerprint;
import dev.sprout.train.RunInfo;
import dev.sprout.train.Summary;
import dev.sprout.train.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * `sprout compare`: trains several configs on the same data, one after another (once per seed), each into its own run
 * folder under --out, then writes report.md, report.html and three val-loss plots measuring every config against the first.
 * Complete runs are skipped and incomplete ones resumed, so an interrupted comparison continues where it stopped.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = {"Train several configs on the same data (once per seed) and compare them with the first, the baseline: "
                + "writes a run folder per config and seed under --out, then report.md, report.html (the same, self-contained, plots inlined), "
                + "val_loss_vs_flops.png, val_loss_vs_flops_zoom.png (its last half) and val_loss_vs_wall.png.",
                "Run it again to continue: complete runs are skipped, incomplete ones resumed."})
final class CompareCommand implements Callable<Integer> {
    @Option(names = "--config", arity = "1..*", paramLabel = "FILE", description = "Run configurations (YAML): one or more after each --config "
            + "(so --config dir/{a,b}.yaml works), and --config may repeat. The first is the baseline. Each run folder is named after its file's base name.")
    List<Path> configs = new ArrayList<>();

    @Option(names = "--data", paramLabel = "DIR", description = "Prepared data folder shared by every run (default: the built-in corpus).")
    Path data;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder for the run folders, report.md and the plots.")
    Path out;

    @Option(names = "--seeds", paramLabel = "N,N,...", description = "Run every config once per seed (applied as --set seed=N); "
            + "run folders are named NAME-seedN, so one seed at a time can be added to the same --out.")
    String seeds;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a config key in every run (repeatable).")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--max-steps", paramLabel = "N", description = "Stop every run at step N (the LR schedule still follows train.max_steps).")
    Integer maxSteps;

    @Option(names = "--scale-steps", paramLabel = "F", description = "Multiply every step count of every config by F (rounded): train.max_steps, eval_every, log_every, checkpoint.every, warmup, ReLoRA's and GaLore's intervals; PLD's per-step gamma divided by F; "
            + "e.g. 0.2 for a shorter run on a slower corpus; step fractions in the configs keep their meaning.")
    Double scaleSteps;

    @Option(names = "--eval-data", paramLabel = "DIR", description = "Also evaluate every finished run on this prepared data (same tokenizer), "
            + "text none of them trained on: a held-out section in report.md (each run's result is kept in its folder as heldout.json).")
    Path evalData;

    @Option(names = "--warmup-steps", defaultValue = "3", paramLabel = "N",
            description = "Untimed steps of the first config to train, on a throwaway model, before the first run starts, so it does not alone pay "
                    + "the JIT's and libtorch's warm-up in its time; 0 = none (default: ${DEFAULT-VALUE}).")
    int warmupSteps;

    @Option(names = "--no-tensorboard", description = "Write no TensorBoard events files (by default every run folder gets one: "
            + "tensorboard --logdir OUT shows the runs' curves side by side, live).")
    boolean noTensorBoard;

    @Option(names = "--report-only", description = "Train nothing; rebuild the report and plots from the run folders in --out.")
    boolean reportOnly;

    /**
     * Configs of different lengths (growth runs go on to 2x the baseline's FLOPs) lose their budgets under
     * {@code --set train.max_steps}: every run gets the same steps. Said, not refused: equal steps may be the point.
     */
    private void warnIfStepsOverrideEqualizesBudgets() {
        String set = override("train.max_steps");
        if (set == null) return;
        Map<String, Integer> own = new LinkedHashMap<>();
        for (Path c : configs) own.put(baseName(c), ConfigLoader.load(c, List.of()).train().maxSteps());
        if (new HashSet<>(own.values()).size() < 2) return;
        String each = String.join(", ", own.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).toList());
        System.err.println("compare: warning: --set " + set + " gives every config the same steps, but the configs set their own ("
                + each + "), so their compute budgets no longer differ as designed; --scale-steps F keeps their ratios");
    }

    /**
     * --scale-steps F: every key counted in steps, scaled together so a shorter run keeps its shape: its length, how often
     * it evaluates, logs and checkpoints, its warmup, ReLoRA's restarts and re-warmup, GaLore's basis refreshes, and PLD's
     * per-step decay (divided by F, so the keep factor follows the same curve over the run). Shares of the run (EST's and
     * RaPTr's stages, growth fractions, SwitchLoRA's ratio) need nothing. SwitchLoRA's interval0 and freeze_steps stay:
     * its official schedule fixes them in steps whatever the run's length.
     */
    static List<String> scaledSteps(dev.sprout.config.SproutConfig c, double f) {
        List<String> o = new ArrayList<>();
        java.util.function.LongUnaryOperator scale = v -> Math.max(1, Math.round(f * v));
        o.add("train.max_steps=" + scale.applyAsLong(c.train().maxSteps()));
        if (c.train().evalEvery() > 0) o.add("train.eval_every=" + scale.applyAsLong(c.train().evalEvery()));
        o.add("train.log_every=" + scale.applyAsLong(c.train().logEvery()));
        if (c.checkpoint().every() > 0) o.add("checkpoint.every=" + scale.applyAsLong(c.checkpoint().every()));
        if (c.optim().warmupSteps() > 0) o.add("optim.warmup_steps=" + scale.applyAsLong(c.optim().warmupSteps()));
        o.add("method.pld.gamma=" + c.method().pld().gamma() / f);
        o.add("method.relora.reset_every=" + scale.applyAsLong(c.method().relora().resetEvery()));
        o.add("method.relora.restart_warmup=" + Math.round(f * c.method().relora().restartWarmup()));
        o.add("method.galore.update_every=" + scale.applyAsLong(c.method().galore().updateEvery()));
        return o;
    }

    /** A run with few evaluations gives coarse curves and a coarse equal-compute view: said before anything trains. */
    private static void warnIfFewEvaluations(List<Planned> plan) {
        Set<String> said = new HashSet<>();
        for (Planned p : plan) {
            dev.sprout.config.SproutConfig c = ConfigLoader.load(p.configFile(), p.overrides());
            int every = c.train().evalEvery(), steps = c.train().maxSteps();
            long evals = every > 0 ? steps / every : 1;
            if (evals < 20 && every > 1 && said.add(p.name())) { // at every step already, there is nothing to raise
                System.err.println("compare: warning: " + p.name() + " evaluates " + evals + " time(s) in " + steps + " steps (train.eval_every=" + every
                        + "): its curve, and the FLOPs at which it reaches a loss, will be coarse; about 20 evaluations or more read well");
            }
            if (p.configFile() != null && c.method().name().equals("switchlora") && override("method.switchlora.interval0", p.overrides()) == null
                    && said.add(p.name() + "/switchlora") && p.overrides().stream().anyMatch(x -> x.startsWith("train.max_steps="))) {
                System.err.println("compare: note: " + p.name() + ": SwitchLoRA's interval0 and freeze_steps are in steps and are not scaled (its official "
                        + "schedule fixes them whatever the run's length)");
            }
        }
    }

    private static String override(String key, List<String> sets) {
        String found = null;
        for (String o : sets) {
            int eq = o.indexOf('=');
            if (eq > 0 && o.substring(0, eq).strip().equals(key)) found = o;
        }
        return found;
    }

    /** The last {@code --set} of {@code key} (the one that wins), or null. */
    private String override(String key) {
        String found = null;
        for (String o : overrides) {
            int eq = o.indexOf('=');
            if (eq > 0 && o.substring(0, eq).strip().equals(key)) found = o;
        }
        return found;
    }

    /** One run of the comparison: a config in a seed round. */
    record Planned(int config, int round, String name, Path configFile, Long seed, Path dir, List<String> overrides) {}

    /**
     * A few steps of a run's config on a model of its own, then freed: the first run's timings (ms/step, wall-clock,
     * the report's time columns) would otherwise include the JIT compiling the training path, libtorch's and MKL's
     * first calls and the allocator's first growth, which later runs in the same process never pay. Changes no run's
     * numbers: every run seeds its own model and sampler.
     */
    private void warmUp(Planned p) throws IOException {
        long t0 = System.nanoTime();
        SproutConfig asked = ConfigLoader.load(p.configFile(), p.overrides());
        var opened = dev.sprout.train.DataLink.forNewRun(asked, data, System.err);
        dev.sprout.data.TokenDataset ds = opened.data();
        SproutConfig cfg = opened.config();
        dev.sprout.train.Backend.init(cfg.threads());
        var training = new dev.sprout.train.MethodTraining(cfg, dev.sprout.train.Backend.device(cfg.device()), null);
        try {
            var sampler = new dev.sprout.data.BatchSampler(ds, cfg.train().batchSize(), cfg.model().context(), cfg.seed());
            for (int i = 0; i < warmupSteps; i++) training.step(i, cfg.optim().lr(), sampler);
        } finally {
            training.release();
        }
        System.out.printf(Locale.ROOT, "compare: warmed up with %d untimed step(s) of %s (%.1f s)%n", warmupSteps, p.name(), (System.nanoTime() - t0) / 1e9);
    }

    @Override
    public Integer call() throws Exception {
        if (configs.isEmpty()) throw new Sprout.UserException("--config: give at least one config file (repeat --config; the first is the baseline)");
        if (maxSteps != null && maxSteps < 1) throw new Sprout.UserException("--max-steps: must be >= 1, got " + maxSteps);
        if (warmupSteps < 0) throw new Sprout.UserException("--warmup-steps: must be >= 0, got " + warmupSteps);
        if (scaleSteps != null) {
            if (!(scaleSteps > 0)) throw new Sprout.UserException("--scale-steps: must be > 0, got " + scaleSteps);
            String set = override("train.max_steps");
            if (set != null) throw new Sprout.UserException("--set " + set + ": conflicts with --scale-steps (which sets train.max_steps per config); drop one of them");
        }
        List<Long> seedList = parseSeeds(seeds);
        if (!seedList.isEmpty()) {
            String set = override("seed");
            if (set != null) throw new Sprout.UserException("--set " + set + ": conflicts with --seeds (which sets seed per round); drop one of them");
        }
        List<String> names = new ArrayList<>();
        Map<String, Path> byName = new HashMap<>();
        for (Path c : configs) {
            if (!Files.isRegularFile(c)) throw new Sprout.UserException("--config: " + c + (Files.exists(c) ? " is not a file" : " does not exist"));
            String name = baseName(c);
            Path other = byName.putIfAbsent(name, c);
            if (other != null) throw new Sprout.UserException("--config: " + other + " and " + c + " have the same base name '" + name
                    + "' (run folders are named after it); rename one");
            names.add(name);
        }
        if (Files.exists(out) && !Files.isDirectory(out)) throw new Sprout.UserException("--out: " + out + " is a file, not a folder");

        List<Planned> plan = plan(names, seedList);
        if (!reportOnly) {
            for (Planned p : plan) ConfigLoader.load(p.configFile(), p.overrides()); // every config's keys are checked before anything trains
            warnIfStepsOverrideEqualizesBudgets();
            warnIfFewEvaluations(plan);
            for (Planned p : plan) checkExisting(p);
            if (evalData != null && data != null) { // before anything trains: a held-out folder the runs cannot read fails now
                String diff = dev.sprout.data.TokenizerMatch.difference(dev.sprout.data.TokenDataset.open(data).tokenizer(),
                        dev.sprout.data.TokenDataset.open(evalData).tokenizer());
                if (diff != null) throw new Sprout.UserException("--eval-data: " + evalData + " was prepared with another tokenizer than --data (" + diff + ")");
            }
            String dataFingerprint = data == null ? null : DataFingerprint.of(data);
            if (dataFingerprint != null && !dataFingerprint.equals("unreadable")) checkData(plan, dataFingerprint); // else the trainer names the problem
            // every run that will train is checked as `train` would check it (config against the data, method, device, splits,
            // memory) before the first one starts: a bad third config must not fail after two runs have trained
            java.io.PrintStream quiet = new java.io.PrintStream(java.io.OutputStream.nullOutputStream());
            for (Planned p : plan) {
                if (skipReason(p.dir()) != null) continue;
                boolean resume = Files.isRegularFile(p.dir().resolve("config.yaml"));
                try {
                    Trainer.dryRun(new Trainer.Options(resume ? null : p.configFile(), data, p.dir(), resume ? List.of() : p.overrides(), maxSteps, resume, null,
                            false, !noTensorBoard), quiet, true);
                } catch (dev.sprout.config.ConfigException | dev.sprout.data.DataException e) {
                    throw new Sprout.UserException(p.name() + (p.seed() == null ? "" : " (seed " + p.seed() + ")") + ": " + e.getMessage());
                }
            }
            boolean tty = System.console() != null;
            Planned firstToTrain = plan.stream().filter(p -> skipReason(p.dir()) == null).findFirst().orElse(null);
            if (firstToTrain != null && warmupSteps > 0) warmUp(firstToTrain);
            for (int i = 0; i < plan.size(); i++) {
                Planned p = plan.get(i);
                String header = String.format(Locale.ROOT, "compare: run %d/%d %s%s -> %s", i + 1, plan.size(), p.name(),
                        p.seed() == null ? "" : " (seed " + p.seed() + ")", p.dir());
                String skip = skipReason(p.dir());
                if (skip != null) {
                    System.out.println(header + ": " + skip + ", skipped");
                    continue;
                }
                boolean resume = Files.isRegularFile(p.dir().resolve("config.yaml"));
                System.out.println(header + (resume ? " (resuming)" : ""));
                Summary s = SignalSafeTraining.run(new Trainer.Options(p.configFile(), data, p.dir(), p.overrides(), maxSteps, resume, null, false, !noTensorBoard), System.out, tty,
                        "compare: stopped after a checkpoint; run the same command again to continue");
                if (s == null) return 130;
                System.out.printf(Locale.ROOT, "compare: %s done: step %d, val loss %.4f, %.3e FLOPs, %.1f s of training, %.1f s of evaluation%n",
                        p.name(), s.steps(), s.finalValLoss(), s.flops(), s.wallS(), s.evalS());
            }
        }

        // the report, from whatever run folders exist
        List<List<RunResult>> runs = new ArrayList<>();
        for (int c = 0; c < names.size(); c++) runs.add(new ArrayList<>());
        int found = 0;
        for (Planned p : plan) {
            RunResult r = RunResult.exists(p.dir()) ? RunResult.read(p.name(), p.seed(), p.dir()) : null;
            if (r != null) found++;
            runs.get(p.config()).add(r);
        }
        if (found == 0) throw new Sprout.UserException((reportOnly ? "--report-only: " : "") + "no runs in " + out + " yet (expected "
                + plan.get(0).dir() + ")" + (reportOnly ? "; run without --report-only first" : ""));
        CompareReport report = new CompareReport(names, seedList, runs);
        if (evalData != null) report.withHeldOut(heldOut(plan, names.size()));
        Files.createDirectories(out);
        boolean plots = true;
        try {
            ComparePlots.write(report, out);
        } catch (Exception | LinkageError | java.awt.AWTError | InternalError e) {
            plots = false; // no display libraries or fonts: the report still says everything
            System.err.println("compare: could not draw the plots (" + e + "); report.md has every number");
        }
        String md = report.markdown(new CompareReport.Context(dataDescription(plan), commandLine(), reportOnly, plots));
        AtomicFiles.write(out.resolve("report.md"), md);
        AtomicFiles.write(out.resolve(HtmlReport.FILE), HtmlReport.render(md, out)); // after the plots: it inlines them
        printTable(md);
        System.out.println("compare: report -> " + out.resolve("report.md") + ", " + out.resolve(HtmlReport.FILE)
                + (plots ? ", plots -> " + String.join(", ", CompareReport.PLOTS.stream().map(f -> out.resolve(f).toString()).toList()) : ""));
        return 0;
    }

    /**
     * Every finished run evaluated on --eval-data; a run's result is kept in its folder (heldout.json, with the data's
     * fingerprint and the step) and reused while both still hold.
     */
    private CompareReport.HeldOut heldOut(List<Planned> plan, int configCount) throws java.io.IOException {
        String fingerprint = DataFingerprint.of(evalData);
        List<List<Double>> loss = new ArrayList<>(), bpb = new ArrayList<>();
        for (int c = 0; c < configCount; c++) {
            loss.add(new ArrayList<>());
            bpb.add(new ArrayList<>());
        }
        dev.sprout.train.Backend.init(0);
        for (Planned p : plan) {
            if (!RunResult.exists(p.dir())) continue;
            Path cache = p.dir().resolve("heldout.json");
            com.fasterxml.jackson.databind.JsonNode saved = Files.isRegularFile(cache) ? ConfigLoader.YAML.readTree(cache.toFile()) : null;
            List<Path> ckpts = new dev.sprout.train.Checkpoints(p.dir().resolve("checkpoints"), Integer.MAX_VALUE).list();
            long step = ckpts.isEmpty() ? -1 : dev.sprout.train.Checkpoints.stepOf(ckpts.get(0));
            double l, b;
            if (saved != null && saved.path("data_fingerprint").asText().equals(fingerprint) && saved.path("step").asLong() == step) {
                l = saved.get("loss").asDouble();
                b = saved.get("bits_per_byte").asDouble();
            } else {
                System.out.println("compare: evaluating " + p.dir() + " on " + evalData);
                dev.sprout.train.RunEvaluation e = dev.sprout.train.RunEvaluation.of(p.dir(), evalData, dev.sprout.data.Split.VAL, null);
                l = e.loss();
                b = e.bitsPerByte();
                var n = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
                n.put("data", evalData.toString()).put("data_fingerprint", fingerprint).put("step", e.step()).put("tokens", e.tokens())
                        .put("loss", l).put("bits_per_byte", b);
                AtomicFiles.write(cache, n.toPrettyString() + "\n");
            }
            loss.get(p.config()).add(l);
            bpb.get(p.config()).add(b);
        }
        return new CompareReport.HeldOut(evalData.toString(), loss, bpb);
    }

    /** Seed rounds outside, configs inside, so every config of a round has trained before the next seed starts. */
    List<Planned> plan(List<String> names, List<Long> seedList) {
        List<Planned> plan = new ArrayList<>();
        int rounds = Math.max(1, seedList.size());
        for (int k = 0; k < rounds; k++) {
            Long seed = seedList.isEmpty() ? null : seedList.get(k);
            for (int c = 0; c < names.size(); c++) {
                // every seeded run is named by its seed, so comparisons run one seed at a time into one --out never
                // meet in a folder; a folder named without it, from before, is still found for a single seed
                String folder = seed == null ? names.get(c) : names.get(c) + "-seed" + seed;
                if (seedList.size() == 1 && !Files.exists(out.resolve(folder)) && seededLike(out.resolve(names.get(c)), seed)) folder = names.get(c);
                List<String> o = new ArrayList<>(overrides);
                if (seed != null) o.add("seed=" + seed);
                if (scaleSteps != null) o.addAll(scaledSteps(ConfigLoader.load(configs.get(c), overrides), scaleSteps));
                plan.add(new Planned(c, k, names.get(c), configs.get(c), seed, out.resolve(folder), List.copyOf(o)));
            }
        }
        return plan;
    }

    /** Whether a run folder holds a run of this seed (its config.yaml's seed). */
    private static boolean seededLike(Path dir, long seed) {
        Path cfg = dir.resolve("config.yaml");
        if (!Files.isRegularFile(cfg)) return false;
        try {
            return ConfigLoader.bind(ConfigLoader.readYaml(cfg)).seed() == seed;
        } catch (RuntimeException e) {
            return false; // not a run this comparison can use
        }
    }

    /** "1,2,3" -> [1, 2, 3]; null -> []. Whole numbers >= 0, no repeats. */
    static List<Long> parseSeeds(String spec) {
        if (spec == null) return List.of();
        Set<Long> seen = new LinkedHashSet<>();
        for (String part : spec.split(",", -1)) {
            String t = part.strip();
            long v;
            try {
                v = Long.parseLong(t);
            } catch (NumberFormatException e) {
                throw new Sprout.UserException("--seeds " + spec + ": '" + t + "' is not a whole number (use e.g. --seeds 1,2,3)");
            }
            if (v < 0) throw new Sprout.UserException("--seeds " + spec + ": seeds must be >= 0, got " + v);
            if (!seen.add(v)) throw new Sprout.UserException("--seeds " + spec + ": seed " + v + " is repeated");
        }
        return List.copyOf(seen);
    }

    /** "configs/est.yaml" -> "est". */
    static String baseName(Path config) {
        String f = config.getFileName().toString();
        int dot = f.lastIndexOf('.');
        return dot > 0 ? f.substring(0, dot) : f;
    }

    /** Why the run in {@code dir} needs no training now, or null: complete, or already at --max-steps. */
    private String skipReason(Path dir) {
        if (RunResult.isComplete(dir)) return "complete";
        long steps = RunResult.summarySteps(dir);
        if (maxSteps != null && steps >= maxSteps) return "already at step " + steps + " (--max-steps " + maxSteps + ")";
        return null;
    }

    /** A run folder that already holds a run must have been started with the same resolved config. */
    private void checkExisting(Planned p) {
        Path saved = p.dir().resolve("config.yaml");
        if (!Files.isRegularFile(saved)) {
            if (Files.exists(p.dir()) && !Files.isDirectory(p.dir())) throw new ConfigException("--out: " + p.dir() + " is a file, not a run folder");
            return;
        }
        SproutConfig savedCfg = ConfigLoader.bind(ConfigLoader.readYaml(saved));
        SproutConfig asked = ConfigLoader.load(p.configFile(), p.overrides());
        SproutConfig resolved = asked.withModel(asked.model().resolve(savedCfg.model().vocabSize()));
        String diff = ConfigDiff.first(ConfigLoader.toYaml(savedCfg), ConfigLoader.toYaml(resolved));
        if (diff != null) throw new ConfigException("compare: " + p.dir() + " was run with a different configuration than " + p.configFile()
                + (p.overrides().isEmpty() ? "" : " with " + String.join(" ", p.overrides())) + " (" + diff + "); use another --out or remove that folder");
    }

    /** Existing runs must have trained on the data given now (the fingerprint run.json recorded). */
    private void checkData(List<Planned> plan, String fp) {
        for (Planned p : plan) {
            if (!Files.isRegularFile(p.dir().resolve("run.json"))) continue;
            RunInfo info = RunInfo.read(p.dir());
            if (!fp.equals(info.dataFingerprint())) throw new ConfigException("--data: " + p.dir() + " was trained on " + info.dataDir()
                    + ", whose meta.json differs from " + data.resolve("meta.json") + "; use another --out");
        }
    }

    private String dataDescription(List<Planned> plan) {
        if (data != null) return data.toAbsolutePath().normalize().toString();
        for (Planned p : plan) {
            if (Files.isRegularFile(p.dir().resolve("run.json"))) {
                try {
                    return RunInfo.read(p.dir()).dataDir().toString() + " (from " + p.dir().getFileName() + "/run.json)";
                } catch (ConfigException e) {
                    // fall through
                }
            }
        }
        return "the built-in corpus";
    }

    /** The command line, rebuilt from the parsed options (shell-quoted where needed). */
    String commandLine() {
        List<String> a = new ArrayList<>(List.of("sprout", "compare"));
        for (Path c : configs) a.addAll(List.of("--config", c.toString()));
        if (data != null) a.addAll(List.of("--data", data.toString()));
        a.addAll(List.of("--out", out.toString()));
        if (seeds != null) a.addAll(List.of("--seeds", String.join(",", parseSeeds(seeds).stream().map(String::valueOf).toList())));
        for (String o : overrides) a.addAll(List.of("--set", o));
        if (maxSteps != null) a.addAll(List.of("--max-steps", String.valueOf(maxSteps)));
        if (scaleSteps != null) a.addAll(List.of("--scale-steps", String.valueOf(scaleSteps)));
        if (noTensorBoard) a.add("--no-tensorboard");
        if (reportOnly) a.add("--report-only");
        return String.join(" ", a.stream().map(CompareCommand::quote).toList());
    }

    static String quote(String s) {
        if (!s.isEmpty() && s.matches("[A-Za-z0-9_./:=,+@%-]+")) return s;
        return "'" + s.replace("'", "'\\''") + "'";
    }

    /** Prints the report's verdict lines and results tables to the console (each table under its name). */
    private static void printTable(String md) {
        String section = null;
        for (String line : md.split("\n")) {
            if (line.startsWith("## ")) section = line.substring(3);
            else if ("Verdicts".equals(section) && line.startsWith("- ")) System.out.println(line);
            else if ("Results".equals(section) && line.startsWith("### ") && !line.startsWith("### How to read")) System.out.println(line.substring(4) + ":");
            else if ("Results".equals(section) && line.startsWith("|")) System.out.println(line);
        }
    }
}
