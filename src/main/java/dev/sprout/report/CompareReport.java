package dev.sprout.report;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The numbers of `sprout compare`, computed from run folders already read into {@link RunResult}s; {@link ReportMarkdown}
 * writes them as report.md and {@link HtmlReport} that as report.html.
 * The first config is the baseline. Every run is measured against the baseline run of the same seed round (the
 * target loss is that run's final val loss), and the per-run ratios are then averaged over seed rounds.
 */
public final class CompareReport {
    /** Plot file names, relative to the comparison folder. */
    public static final String FLOPS_PLOT = "val_loss_vs_flops.png", FLOPS_ZOOM_PLOT = "val_loss_vs_flops_zoom.png", WALL_PLOT = "val_loss_vs_wall.png";

    /** The plots, in the order the report shows them. */
    public static final List<String> PLOTS = List.of(FLOPS_PLOT, FLOPS_ZOOM_PLOT, WALL_PLOT);

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

        /**
         * The run's val loss minus the baseline's at equal FLOPs (negative: ahead). Measured where both curves exist: at the
         * run's total FLOPs when the baseline's curve covers them (the run's final val loss minus the baseline's curve
         * there), else at the baseline's total FLOPs (the run's curve there minus the baseline's final val loss, as in the
         * equal-compute view). NaN when neither curve reaches the other's end.
         */
        public double valLossMinusBaselineAtEqualFlops() {
            if (Double.isFinite(baselineValAtEqualFlops)) return run.finalValLoss() - baselineValAtEqualFlops;
            return valAtBaselineFlopsMinusTarget();
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
                      Stat reachWallRatio, Stat bestValLoss, Stat bestFlopsRatio, Stat bestWallRatio, List<Versus> versus) {
        /** {@link Versus#valLossMinusBaselineAtEqualFlops()} over the seed rounds where it can be measured. */
        public Stat valLossMinusBaselineAtEqualFlops() {
            return Stat.of(versus.stream().map(Versus::valLossMinusBaselineAtEqualFlops).toList());
        }
    }

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


    /** Per config, the mean curve over its seed rounds with the spread between seeds (the plots' lines and bands). */
    public List<SeedBand> plotBands() {
        List<SeedBand> out = new ArrayList<>();
        for (List<RunResult> r : runs) out.add(SeedBand.of(r.stream().filter(x -> x != null).map(RunResult::curve).toList()));
        return out;
    }

    /** The baseline's total FLOPs averaged over its seed rounds' runs (NaN without a baseline run): where the zoomed plot starts from. */
    public double baselineFlops() {
        return Stat.of(runs.get(0).stream().filter(r -> r != null).map(RunResult::flops).toList()).mean();
    }

    /** report.md. */
    public String markdown(Context ctx) {
        return new ReportMarkdown(this, ctx).render();
    }

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

    /** The held-out evaluation, or null when none was given. */
    public HeldOut heldOut() {
        return heldOut;
    }
}
