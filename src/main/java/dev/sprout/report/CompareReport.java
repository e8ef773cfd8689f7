package dev.sprout.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The numbers of `sprout compare` and its report.md, computed from run folders already read into {@link RunResult}s.
 * The first config is the baseline. Every run is measured against the baseline run of the same seed round (the
 * target loss is that run's final val loss), and the per-run ratios are then averaged over seed rounds.
 */
public final class CompareReport {
    /** Plot file names, relative to the comparison folder. */
    public static final String FLOPS_PLOT = "val_loss_vs_flops.png", WALL_PLOT = "val_loss_vs_wall.png";

    /**
     * One run measured against its seed round's baseline run.
     *
     * @param target                  the baseline run's final val loss
     * @param reach                   where the run's val curve first gets to the target (null: not reached, or no target)
     * @param baselineValAtEqualFlops the baseline's val loss interpolated at this run's total FLOPs (NaN outside its curve)
     * @param best                    the run's lowest evaluation (null when it has none)
     * @param valAtBaselineFlops      the run's own val loss interpolated at the baseline's total FLOPs (NaN when the run's
     *                                curve does not reach that far)
     * @param curveEndFlopsRatio      the run's last evaluation's FLOPs over the baseline's total FLOPs: where its curve ends
     *                                (NaN without evaluations)
     * @param paperCostRatio          flops_paper_model of the run over the baseline's (NaN unless both have it)
     */
    public record Versus(RunResult run, RunResult baseline, double target, double flopsRatio, double blockFlopsRatio, double wallRatio, RunCurve.Reach reach,
                         double reachFlopsRatio, double reachWallRatio, double baselineValAtEqualFlops, RunCurve.Point best,
                         double bestFlopsRatio, double bestWallRatio, double valAtBaselineFlops, double curveEndFlopsRatio, double paperCostRatio) {
        public boolean reached() {
            return reach != null;
        }

        public boolean hasTarget() {
            return Double.isFinite(target);
        }

        /** The run's val loss at the baseline's total FLOPs minus the baseline's final val loss (negative: ahead at equal compute). */
        public double valAtBaselineFlopsMinusTarget() {
            return valAtBaselineFlops - target;
        }

        /**
         * Whether the run reaches the target within {@link #REACH_HORIZON} times the baseline's FLOPs; null when that cannot
         * be told (no target, no evaluation, or no FLOPs to divide by).
         */
        public TargetByHorizon targetByHorizon() {
            if (!hasTarget()) return null;
            if (reached() && reachFlopsRatio <= REACH_HORIZON) return TargetByHorizon.REACHED;
            if (reached() && reachFlopsRatio > REACH_HORIZON || curveEndFlopsRatio >= REACH_HORIZON) return TargetByHorizon.NOT_WITHIN;
            if (curveEndFlopsRatio < REACH_HORIZON) return TargetByHorizon.CURVE_ENDS_FIRST;
            return null;
        }
    }

    /**
     * How far past the baseline's FLOPs the equal-compute view looks for the baseline's final val loss: growth methods
     * may cost more than the baseline, but one that needs more than twice its compute to match it is not a contender,
     * and an exact multiple there would only suggest otherwise.
     */
    public static final int REACH_HORIZON = 2;

    /** Where a run stands against its baseline's final val loss at {@link #REACH_HORIZON} times the baseline's FLOPs. */
    public enum TargetByHorizon {
        /** reached by the horizon */
        REACHED,
        /** reached only past the horizon, or not reached by a curve that runs past it */
        NOT_WITHIN,
        /** not reached by a curve that ends before the horizon: a longer run might still get there */
        CURVE_ENDS_FIRST
    }

    /** One config aggregated over its seed rounds (only rounds where both the run and the baseline run exist are paired). */
    public record Row(String config, String method, int runs, int rounds, int paired, int reached, Stat finalValLoss, Stat steps,
                      Stat tokensPerParam, Stat baselineValAtEqualFlops, Stat flopsRatio, Stat blockFlopsRatio, Stat wallRatio, Stat reachFlopsRatio,
                      Stat reachWallRatio, Stat bestValLoss, Stat bestFlopsRatio, Stat bestWallRatio, List<Versus> versus) {}

    /**
     * One config's equal-compute view, aggregated over the seed rounds of {@code row.versus()}: how the run does when held
     * to its baseline run's FLOPs, and how much compute it needs to match the baseline's result.
     *
     * @param valAtBaselineFlops            the run's val loss at its baseline run's total FLOPs, over the rounds whose curve reaches that far
     * @param valAtBaselineFlopsMinusTarget that minus the baseline run's final val loss, over the same rounds
     * @param shortCurveEndFlopsRatio       where the curve ends (as a multiple of the baseline's FLOPs) in the rounds whose curve ends
     *                                      before the baseline's total FLOPs
     * @param paperCostRatio                flops_paper_model over the baseline's, in the rounds where both runs have it
     * @param reachFlopsRatioWithinHorizon  FLOPs to reach the baseline's final val loss (as a multiple of the baseline's) in the
     *                                      rounds that reach it within {@link #REACH_HORIZON}
     * @param notWithinHorizon              how many rounds are {@link TargetByHorizon#NOT_WITHIN}
     * @param endFlopsRatioBeforeHorizon    where the curve ends in the rounds that are {@link TargetByHorizon#CURVE_ENDS_FIRST}
     */
    public record EqualCompute(Row row, Stat valAtBaselineFlops, Stat valAtBaselineFlopsMinusTarget, Stat shortCurveEndFlopsRatio,
                               Stat paperCostRatio, Stat reachFlopsRatioWithinHorizon, int notWithinHorizon, Stat endFlopsRatioBeforeHorizon) {
        /** The rounds whose standing against the horizon could be told (see {@link Versus#targetByHorizon()}). */
        public int judged() {
            return reachFlopsRatioWithinHorizon.n() + notWithinHorizon + endFlopsRatioBeforeHorizon.n();
        }
    }

    /** What report.md says about how the comparison was run. */
    public record Context(String data, String commandLine, boolean reportOnly, boolean plots) {}

    private final List<String> configs;
    private final List<Long> seeds;
    private final List<List<RunResult>> runs;

    /**
     * @param configs config names, baseline first
     * @param seeds   the seed rounds' seeds; empty when no --seeds were given (one round, each config's own seed)
     * @param runs    runs[config][round], null where the run folder does not exist yet
     */
    public CompareReport(List<String> configs, List<Long> seeds, List<List<RunResult>> runs) {
        if (configs.isEmpty()) throw new IllegalArgumentException("no configs");
        if (runs.size() != configs.size()) throw new IllegalArgumentException("one list of runs per config");
        int rounds = Math.max(1, seeds.size());
        for (List<RunResult> r : runs) if (r.size() != rounds) throw new IllegalArgumentException("one run (or null) per seed round");
        this.configs = List.copyOf(configs);
        this.seeds = List.copyOf(seeds);
        this.runs = runs.stream().map(l -> java.util.Collections.unmodifiableList(new ArrayList<>(l))).toList();
    }

    public List<String> configs() {
        return configs;
    }

    public List<Long> seeds() {
        return seeds;
    }

    public int rounds() {
        return Math.max(1, seeds.size());
    }

    /** The runs of config {@code c}, one per seed round (null where missing). */
    public List<RunResult> runs(int c) {
        return runs.get(c);
    }

    /** Measures {@code run} against {@code baseline} (normally the baseline run of the same seed round). */
    public static Versus versus(RunResult run, RunResult baseline) {
        double target = baseline.finalValLoss();
        RunCurve.Reach reach = Double.isFinite(target) ? run.curve().reach(target) : null;
        RunCurve.Point best = run.curve().best();
        // the curve's end, not the run's total: a killed run's last rows after its last evaluation say nothing about its loss
        RunCurve.Point end = run.curve().last();
        return new Versus(run, baseline, target, ratio(run.flops(), baseline.flops()), ratio(run.blockFlops(), baseline.blockFlops()),
                ratio(run.wallS(), baseline.wallS()), reach,
                reach == null ? Double.NaN : ratio(reach.flops(), baseline.flops()), reach == null ? Double.NaN : ratio(reach.wallS(), baseline.wallS()),
                baseline.curve().valLossAtFlops(run.flops()), best,
                best == null ? Double.NaN : ratio(best.flops(), baseline.flops()), best == null ? Double.NaN : ratio(best.wallS(), baseline.wallS()),
                run.curve().valLossAtFlops(baseline.flops()), end == null ? Double.NaN : ratio(end.flops(), baseline.flops()),
                ratio(run.flopsPaperModel(), baseline.flopsPaperModel()));
    }

    private static double ratio(double a, double b) {
        return b > 0 ? a / b : Double.NaN;
    }

    /** One row per config, baseline first. */
    public List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        for (int c = 0; c < configs.size(); c++) {
            List<RunResult> mine = runs.get(c);
            List<Versus> vs = new ArrayList<>();
            List<RunResult> present = new ArrayList<>();
            for (int k = 0; k < rounds(); k++) {
                RunResult r = mine.get(k), b = runs.get(0).get(k);
                if (r == null) continue;
                present.add(r);
                if (b != null) vs.add(versus(r, b));
            }
            List<Versus> withTarget = vs.stream().filter(Versus::hasTarget).toList();
            List<Versus> reached = withTarget.stream().filter(Versus::reached).toList();
            List<Versus> notReached = withTarget.stream().filter(v -> !v.reached()).toList();
            String method = present.stream().map(RunResult::method).distinct().collect(Collectors.joining(", "));
            rows.add(new Row(configs.get(c), method.isEmpty() ? "?" : method, present.size(), rounds(), withTarget.size(), reached.size(),
                    Stat.of(present.stream().map(RunResult::finalValLoss).toList()),
                    Stat.of(present.stream().map(r -> (double) r.steps()).toList()),
                    Stat.of(present.stream().map(RunResult::tokensPerParam).toList()),
                    Stat.of(vs.stream().map(Versus::baselineValAtEqualFlops).toList()),
                    Stat.of(vs.stream().map(Versus::flopsRatio).toList()),
                    Stat.of(vs.stream().map(Versus::blockFlopsRatio).toList()),
                    Stat.of(vs.stream().map(Versus::wallRatio).toList()),
                    Stat.of(reached.stream().map(Versus::reachFlopsRatio).toList()),
                    Stat.of(reached.stream().map(Versus::reachWallRatio).toList()),
                    Stat.of(notReached.stream().map(v -> v.best() == null ? Double.NaN : v.best().valLoss()).toList()),
                    Stat.of(notReached.stream().map(Versus::bestFlopsRatio).toList()),
                    Stat.of(notReached.stream().map(Versus::bestWallRatio).toList()),
                    List.copyOf(vs)));
        }
        return rows;
    }

    /** The equal-compute view of one config's row. */
    public static EqualCompute equalCompute(Row row) {
        List<Versus> vs = row.versus();
        List<Versus> reachBaselineFlops = vs.stream().filter(v -> Double.isFinite(v.valAtBaselineFlops())).toList();
        List<Versus> endBeforeBaselineFlops = vs.stream().filter(v -> !Double.isFinite(v.valAtBaselineFlops()) && v.curveEndFlopsRatio() < 1).toList();
        return new EqualCompute(row,
                Stat.of(reachBaselineFlops.stream().map(Versus::valAtBaselineFlops).toList()),
                Stat.of(reachBaselineFlops.stream().map(Versus::valAtBaselineFlopsMinusTarget).toList()),
                Stat.of(endBeforeBaselineFlops.stream().map(Versus::curveEndFlopsRatio).toList()),
                Stat.of(vs.stream().map(Versus::paperCostRatio).toList()),
                Stat.of(vs.stream().filter(v -> v.targetByHorizon() == TargetByHorizon.REACHED).map(Versus::reachFlopsRatio).toList()),
                (int) vs.stream().filter(v -> v.targetByHorizon() == TargetByHorizon.NOT_WITHIN).count(),
                Stat.of(vs.stream().filter(v -> v.targetByHorizon() == TargetByHorizon.CURVE_ENDS_FIRST).map(Versus::curveEndFlopsRatio).toList()));
    }

    /** The baseline's final val loss averaged over the seed rounds that have a baseline run (the plots' dashed line). */
    public Stat baselineTarget() {
        return Stat.of(runs.get(0).stream().filter(r -> r != null).map(RunResult::finalValLoss).toList());
    }

    /** Per config, the curve the plots draw: the mean over its seed rounds at the eval steps every round has. */
    public List<RunCurve> plotCurves() {
        List<RunCurve> out = new ArrayList<>();
        for (List<RunResult> r : runs) out.add(RunCurve.mean(r.stream().filter(x -> x != null).map(RunResult::curve).toList()));
        return out;
    }

    /** report.md. */
    public String markdown(Context ctx) {
        List<Row> rows = rows();
        StringBuilder md = new StringBuilder();
        md.append("# Sprout compare: ").append(String.join(" vs ", configs)).append("\n\n");
        md.append("- Data: `").append(ctx.data()).append("`\n");
        if (seeds.isEmpty()) {
            md.append("- Seeds: none given (one run per config, each with its config's `seed`)\n");
        } else {
            md.append("- Seeds: ").append(seeds.stream().map(String::valueOf).collect(Collectors.joining(", ")))
                    .append(" (each config runs once per seed with `seed=N`; every run is compared with the baseline run of the same seed")
                    .append(seeds.size() > 1 ? "; a ± b is the mean and sample standard deviation over seeds)\n" : ")\n");
        }
        Stat target = baselineTarget();
        md.append("- Baseline: `").append(configs.get(0)).append("` (the first config). Its final val loss, the target below: ")
                .append(target.format(4)).append("\n");
        int missing = 0;
        for (List<RunResult> r : runs) for (RunResult x : r) if (x == null) missing++;
        if (missing > 0) md.append("- **").append(missing).append(" run(s) missing**: the table covers the runs that exist (see Runs)\n");
        boolean incomplete = runs.stream().flatMap(List::stream).anyMatch(r -> r != null && !r.complete());
        if (incomplete) md.append("- Some runs stopped before `train.max_steps` (`--max-steps` or an interruption); see Runs\n");
        md.append('\n');

        md.append("## Results\n\n");
        md.append("| config | method | steps | tokens/param | final val loss | baseline val loss at equal FLOPs | FLOPs vs baseline | block FLOPs vs baseline "
                + "| wall-clock vs baseline | FLOPs to reach baseline's final val loss (vs baseline's total FLOPs) | wall-clock to reach it (vs baseline's total wall) |\n");
        md.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            String name = cell(r.config()) + (r.runs() < r.rounds() ? " (" + r.runs() + "/" + r.rounds() + " runs)" : "");
            md.append("| ").append(name)
                    .append(" | ").append(cell(r.method()))
                    .append(" | ").append(steps(r.steps()))
                    .append(" | ").append(r.tokensPerParam().format(2))
                    .append(" | ").append(r.finalValLoss().format(4))
                    .append(" | ").append(r.baselineValAtEqualFlops().format(4))
                    .append(" | ").append(r.flopsRatio().format(3))
                    .append(" | ").append(r.blockFlopsRatio().format(3))
                    .append(" | ").append(r.wallRatio().format(3))
                    .append(" | ").append(reachCell(r, true))
                    .append(" | ").append(reachCell(r, false))
                    .append(" |\n");
        }
        md.append('\n');

        md.append("### How to read this\n\n");
        md.append("Ratios are this config's cost divided by the baseline's total cost (below 1 = cheaper), each run paired with the "
                + "baseline run of the same seed. \"FLOPs to reach\" is where the run's validation curve (evaluations of the full model, "
                + "in step order) first gets to the baseline's final val loss, interpolated linearly between the evaluation just above that "
                + "loss and the first one at or below it; a value below 1 means the method matched the baseline's result with less compute. "
                + "\"not reached\" gives the run's best val loss instead, and where it was (as a fraction of the baseline's FLOPs or wall-clock). "
                + "\"baseline val loss at equal FLOPs\" is the baseline's curve interpolated at this run's total FLOPs: when the run's final "
                + "val loss is lower, the method is ahead at equal compute (n/a when the run's FLOPs fall outside the baseline's evaluated range). "
                + "Wall-clock is training time only (evaluation excluded), measured on this machine, so it is noisier than FLOPs; FLOPs count "
                + "exactly the matmuls each step ran. \"block FLOPs\" leaves out the LM head (which no subnetwork method shrinks): with a large "
                + "vocabulary and a small model the head dominates, and the whole-model ratio cannot go far below 1 whatever the blocks save. tokens/param is training tokens seen per model parameter.\n\n");

        md.append("## Equal-compute view\n\n");
        md.append("| config | method | FLOPs vs baseline | cost vs baseline, paper's model | val loss at baseline's total FLOPs "
                + "| minus baseline's final val loss | FLOPs to reach baseline's final val loss (x baseline's total) | reached within " + REACH_HORIZON + "x |\n");
        md.append("|---|---|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            EqualCompute e = equalCompute(r);
            int pairs = r.versus().size();
            md.append("| ").append(cell(r.config()))
                    .append(" | ").append(cell(r.method()))
                    .append(" | ").append(r.flopsRatio().format(3))
                    .append(" | ").append(inRounds(e.paperCostRatio().format(3), e.paperCostRatio().n(), pairs))
                    .append(" | ").append(valAtBaselineFlopsCell(e, pairs))
                    .append(" | ").append(inRounds(signed(e.valAtBaselineFlopsMinusTarget()), e.valAtBaselineFlopsMinusTarget().n(), pairs))
                    .append(" | ").append(reachWithinHorizonCell(e))
                    .append(" | ").append(e.judged() == 0 ? "n/a" : e.reachFlopsRatioWithinHorizon().n() + "/" + e.judged())
                    .append(" |\n");
        }
        md.append('\n');
        List<String> verdicts = rows.stream().skip(1).map(r -> verdict(equalCompute(r))).filter(v -> v != null).toList();
        if (!verdicts.isEmpty()) {
            md.append("### Verdicts\n\n");
            for (String v : verdicts) md.append("- ").append(v).append('\n');
            md.append('\n');
        }
        md.append("### How to read this\n\n");
        md.append("Growth methods (incremental training, stacking) may spend more compute than the baseline, so this view holds each "
                + "run to its baseline run's budget (same seed). \"val loss at baseline's total FLOPs\" is the run's own validation curve "
                + "interpolated linearly at the baseline's total FLOPs, and the next column subtracts the baseline's final val loss "
                + "(negative = ahead at equal compute); \"ends at 0.71x\" means the run's curve stops before that budget, at that fraction "
                + "of it. \"FLOPs to reach\" is where the run first gets to the baseline's final val loss (interpolated as in Results), "
                + "as a multiple of the baseline's total FLOPs: \"not within " + REACH_HORIZON + "x\" when it gets there only later, or not "
                + "at all in a curve that runs past " + REACH_HORIZON + "x; \"not reached (ends at 1.50x)\" when the curve stops earlier "
                + "without getting there. Where the run's curve ends is its last evaluation's FLOPs. \"cost vs baseline, paper's model\" "
                + "is the same cost ratio under the incremental-training paper's convention (block FLOPs only, backward = forward, "
                + "backward only through trainable blocks), for setting our numbers beside the paper's; it counts the dense block "
                + "matrices, so runs with low-rank adapters read 1.000 there whatever their adapters cost; n/a for runs that predate it. "
                + "Over several seeds, \"in k/n seeds\" says how many seeds a value covers.\n\n");

        appendHeldOut(md);
        appendMemory(md);

        md.append("## Runs\n\n");
        md.append("| run | seed | method | steps | complete | final val loss | FLOPs | wall s | reaches baseline's final val loss | stage boundaries |\n");
        md.append("|---|---:|---|---:|---|---:|---:|---:|---|---|\n");
        for (int c = 0; c < configs.size(); c++) {
            for (int k = 0; k < rounds(); k++) {
                RunResult r = runs.get(c).get(k);
                Long seed = seeds.isEmpty() ? null : seeds.get(k);
                if (r == null) {
                    md.append("| ").append(cell(configs.get(c))).append(seed == null ? "" : " (seed " + seed + ")")
                            .append(" | ").append(seed == null ? "" : seed).append(" | | | missing | | | | | |\n");
                    continue;
                }
                RunResult b = runs.get(0).get(k);
                Versus v = b == null ? null : versus(r, b);
                String reach;
                if (v == null) reach = "no baseline run";
                else if (!v.hasTarget()) reach = "n/a (baseline has no val loss)";
                else if (v.reached()) reach = String.format(Locale.ROOT, "by step %d: %s FLOPs, %s wall", v.reach().step(), fmt(v.reachFlopsRatio(), 3), fmt(v.reachWallRatio(), 3));
                else if (v.best() == null) reach = "not reached (no evaluation)";
                else reach = String.format(Locale.ROOT, "not reached (best %s at step %d)", fmt(v.best().valLoss(), 4), v.best().step());
                md.append("| `").append(r.dir().getFileName()).append("`")
                        .append(" | ").append(r.configSeed() == null ? "?" : r.configSeed())
                        .append(" | ").append(cell(r.method()))
                        .append(" | ").append(r.steps()).append(r.maxSteps() > 0 ? " of " + r.maxSteps() : "")
                        .append(" | ").append(r.complete() ? "yes" : "no")
                        .append(" | ").append(fmt(r.finalValLoss(), 4))
                        .append(" | ").append(String.format(Locale.ROOT, "%.3e", r.flops()))
                        .append(" | ").append(fmt(r.wallS(), 1))
                        .append(" | ").append(reach)
                        .append(" | ").append(boundaries(r.curve()))
                        .append(" |\n");
            }
        }
        md.append('\n');

        if (ctx.plots()) {
            md.append("## Plots\n\n");
            md.append("![val loss vs FLOPs](").append(FLOPS_PLOT).append(")\n\n");
            md.append("![val loss vs wall-clock](").append(WALL_PLOT).append(")\n\n");
            md.append(rounds() > 1
                    ? "Each line is one config's mean over its seeds: at every evaluation step that all its seeds have, the mean val loss at the mean FLOPs (or seconds). "
                    : "Each line is one run's validation curve. ");
            md.append("The baseline is the thick black line; the dashed line is its final val loss; thin vertical lines in a config's colour mark its stage boundaries.\n\n");
        }

        md.append("## Command\n\n");
        if (ctx.reportOnly()) md.append("This report was rebuilt from existing run folders:\n\n");
        md.append("```\n").append(ctx.commandLine()).append("\n```\n");
        return md.toString();
    }

    private static String reachCell(Row r, boolean flops) {
        if (r.paired() == 0) return "n/a";
        if (r.reached() == 0) {
            if (r.bestValLoss().n() == 0) return "not reached";
            return flops ? "not reached (best " + r.bestValLoss().format(4) + " at " + r.bestFlopsRatio().format(3) + ")"
                    : "not reached (best at " + r.bestWallRatio().format(3) + ")";
        }
        String s = (flops ? r.reachFlopsRatio() : r.reachWallRatio()).format(3);
        return r.reached() < r.paired() ? s + " (" + r.reached() + "/" + r.paired() + " seeds reached)" : s;
    }

    /**
     * The training state's memory per config, from summary.json (the first seed round's run that has it): what low-rank
     * methods save. Left out when no run has the keys (runs older than them).
     */
    /**
     * Each config's final weights evaluated on data none of them trained on (compare --eval-data): per config, one value
     * per run (seed) that exists, in seed order.
     *
     * @param data the held-out data folder
     */
    public record HeldOut(String data, List<List<Double>> loss, List<List<Double>> bitsPerByte) {}

    private HeldOut heldOut;

    /** Adds the held-out section to the report. */
    public CompareReport withHeldOut(HeldOut h) {
        this.heldOut = h;
        return this;
    }

    private void appendHeldOut(StringBuilder md) {
        if (heldOut == null) return;
        md.append("## Held-out data\n\n");
        md.append("Each run's newest weights (adapters merged) on the validation windows of `").append(heldOut.data())
                .append("`, text none of the runs trained on (`sprout eval`).\n\n");
        md.append("| config | runs | loss | bits per byte | loss vs baseline |\n|---|---:|---:|---:|---:|\n");
        Stat base = Stat.of(heldOut.loss().get(0));
        for (int c = 0; c < configs.size(); c++) {
            Stat loss = Stat.of(heldOut.loss().get(c)), bpb = Stat.of(heldOut.bitsPerByte().get(c));
            md.append("| ").append(cell(configs.get(c))).append(" | ").append(loss.n()).append(" | ").append(loss.format(4)).append(" | ")
                    .append(bpb.format(4)).append(" | ").append(c == 0 || loss.n() == 0 || base.n() == 0 ? "-" : String.format(Locale.ROOT, "%+.4f", loss.mean() - base.mean()))
                    .append(" |\n");
        }
        md.append("\n");
    }

    private void appendMemory(StringBuilder md) {
        List<RunResult> withMemory = new ArrayList<>();
        for (List<RunResult> rs : runs) withMemory.add(rs.stream().filter(r -> r != null && r.memory() != null).findFirst().orElse(null));
        if (withMemory.stream().allMatch(r -> r == null)) return;
        RunResult.Memory base = withMemory.get(0) == null ? null : withMemory.get(0).memory();
        md.append("## Memory\n\n");
        md.append("| config | method | trainable params | of them in blocks | optimizer state MB | blocks' optimizer state MB | blocks' optimizer state vs baseline "
                + "| blocks' gradient MB | peak resident MB |\n");
        md.append("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (int c = 0; c < configs.size(); c++) {
            RunResult r = withMemory.get(c);
            if (r == null) {
                md.append("| ").append(cell(configs.get(c))).append(" | | n/a | | | | | | |\n");
                continue;
            }
            RunResult.Memory m = r.memory();
            md.append("| ").append(cell(configs.get(c))).append(" | ").append(cell(r.method()))
                    .append(" | ").append(String.format(Locale.ROOT, "%,d", m.trainableParams()))
                    .append(" | ").append(String.format(Locale.ROOT, "%,d", m.trainableParamsBlocks()))
                    .append(" | ").append(mb(m.optimizerStateBytes()))
                    .append(" | ").append(mb(m.optimizerStateBytesBlocks()))
                    .append(" | ").append(base == null || base.optimizerStateBytesBlocks() == 0 ? "n/a" : fmt((double) m.optimizerStateBytesBlocks() / base.optimizerStateBytesBlocks(), 3))
                    .append(" | ").append(mb(m.gradientBytesBlocks()))
                    .append(" | ").append(m.peakRssBytes() < 0 ? "n/a" : String.format(Locale.ROOT, "%.0f", m.peakRssBytes() / 1e6))
                    .append(" |\n");
        }
        md.append("\nFrom each run's summary.json (the first seed's). Optimizer state is AdamW's moments (and GaLore's bases); "
                + "\"blocks\" counts the transformer blocks' parameters alone, where low-rank methods act. Peak resident memory is the "
                + "training session's high-water mark (reset when each run starts; a resumed run's covers its last session only).\n\n");
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.3f", bytes / 1e6);
    }

    private static String valAtBaselineFlopsCell(EqualCompute e, int pairs) {
        List<String> parts = new ArrayList<>();
        if (e.valAtBaselineFlops().n() > 0) parts.add(inRounds(e.valAtBaselineFlops().format(4), e.valAtBaselineFlops().n(), pairs));
        if (e.shortCurveEndFlopsRatio().n() > 0)
            parts.add(inRounds("ends at " + times(e.shortCurveEndFlopsRatio()), e.shortCurveEndFlopsRatio().n(), pairs));
        return parts.isEmpty() ? "n/a" : String.join("; ", parts);
    }

    /**
     * One sentence on a config against the baseline at equal compute, counted over the seeds where it can be told (the
     * run's curve reaches the baseline's total FLOPs and the baseline has a final val loss); for incremental training it
     * adds whether the paper's negative finding holds: behind at equal compute, and needing more than the baseline's
     * compute to catch up (reaching the baseline's final val loss only past 1x, or not within {@link #REACH_HORIZON}x).
     * Null when no seed can be judged.
     */
    static String verdict(EqualCompute e) {
        List<Versus> judged = e.row().versus().stream().filter(v -> v.hasTarget() && Double.isFinite(v.valAtBaselineFlops())).toList();
        if (judged.isEmpty()) return null;
        int n = judged.size();
        long behind = judged.stream().filter(v -> v.valAtBaselineFlopsMinusTarget() > 0).count();
        long ahead = judged.stream().filter(v -> v.valAtBaselineFlopsMinusTarget() < 0).count();
        long within = judged.stream().filter(v -> v.targetByHorizon() == TargetByHorizon.REACHED).count();
        // any seed behind makes it "behind" (with how many); else any ahead; else level in all
        String standing = behind > 0 ? "behind" : ahead > 0 ? "ahead of" : "level with";
        long inSeeds = behind > 0 ? behind : ahead > 0 ? ahead : n;
        StringBuilder sb = new StringBuilder("`").append(e.row().config()).append("`: ");
        sb.append(standing).append(" the baseline at the baseline's total FLOPs in ")
                .append(inSeeds).append('/').append(n).append(n > 1 ? " seeds" : " seed")
                .append(" (").append(signed(e.valAtBaselineFlopsMinusTarget())).append(" val loss)");
        sb.append("; reaches the baseline's final val loss within ").append(REACH_HORIZON).append("x its FLOPs in ")
                .append(within).append('/').append(n);
        if (e.reachFlopsRatioWithinHorizon().n() > 0) sb.append(" (at ").append(times(e.reachFlopsRatioWithinHorizon())).append(')');
        sb.append('.');
        if (e.row().method().contains("incremental")) {
            long reproduces = judged.stream().filter(v -> v.valAtBaselineFlopsMinusTarget() > 0
                    && (v.targetByHorizon() != TargetByHorizon.REACHED || v.reachFlopsRatio() > 1)).count();
            sb.append(" **The incremental-training paper's negative finding (behind at equal compute, and more compute than the baseline's ")
                    .append("needed to catch up): ").append(reproduces == n ? "reproduces" : reproduces == 0 ? "does not reproduce" : "reproduces in part")
                    .append(" (").append(reproduces).append('/').append(n).append(n > 1 ? " seeds" : " seed").append(").**");
        }
        return sb.toString();
    }

    private static String reachWithinHorizonCell(EqualCompute e) {
        int judged = e.judged();
        List<String> parts = new ArrayList<>();
        if (e.reachFlopsRatioWithinHorizon().n() > 0)
            parts.add(inRounds(times(e.reachFlopsRatioWithinHorizon()), e.reachFlopsRatioWithinHorizon().n(), judged));
        if (e.notWithinHorizon() > 0) parts.add(inRounds("not within " + REACH_HORIZON + "x", e.notWithinHorizon(), judged));
        if (e.endFlopsRatioBeforeHorizon().n() > 0)
            parts.add(inRounds("not reached (ends at " + times(e.endFlopsRatioBeforeHorizon()) + ")", e.endFlopsRatioBeforeHorizon().n(), judged));
        return parts.isEmpty() ? "n/a" : String.join("; ", parts);
    }

    /** {@code value}, marked "in k/n seeds" when it covers only some of the seed rounds. */
    private static String inRounds(String value, int k, int n) {
        if (k == 0) return "n/a";
        return k < n ? value + " in " + k + "/" + n + " seeds" : value;
    }

    /** A multiple: "1.30x", "1.30x ± 0.05" over several seeds. */
    private static String times(Stat s) {
        if (s.n() == 0) return "n/a";
        String m = String.format(Locale.ROOT, "%.2fx", s.mean());
        return s.n() > 1 ? m + String.format(Locale.ROOT, " ± %.2f", s.std()) : m;
    }

    /** A signed difference: "+0.0123", "-0.0100 ± 0.0040". */
    private static String signed(Stat s) {
        if (s.n() == 0) return "n/a";
        String m = String.format(Locale.ROOT, "%+.4f", s.mean());
        return s.n() > 1 ? m + String.format(Locale.ROOT, " ± %.4f", s.std()) : m;
    }

    private static String steps(Stat s) {
        if (s.n() == 0) return "n/a";
        if (s.n() == 1 || s.std() == 0) return String.valueOf(Math.round(s.mean()));
        return s.format(1);
    }

    /** "2 → 3 @ 12, 3 → 4 @ 24" (label changes with their step), "" when none. */
    static String boundaries(RunCurve c) {
        return c.boundaries().stream()
                .map(b -> (b.from() == null ? "-" : cell(b.from())) + " → " + (b.stage() == null ? "-" : cell(b.stage())) + " @ " + b.step())
                .collect(Collectors.joining(", "));
    }

    private static String fmt(double v, int decimals) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%." + decimals + "f", v) : "n/a";
    }

    private static String cell(String s) {
        return s.replace("|", "\\|").replace("\n", " ");
    }
}
