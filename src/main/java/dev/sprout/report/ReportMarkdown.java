package dev.sprout.report;

import static dev.sprout.report.Formats.fmt;
import static dev.sprout.report.Formats.inRounds;
import static dev.sprout.report.Formats.mb;
import static dev.sprout.report.Formats.signed;
import static dev.sprout.report.Formats.steps;
import static dev.sprout.report.Formats.times;

import dev.sprout.report.CompareReport.EqualCompute;
import dev.sprout.report.CompareReport.Row;
import dev.sprout.report.CompareReport.Versus;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * report.md from a {@link CompareReport}'s numbers: the verdict lines first, then small tables (each a handful of
 * columns, so they read on a laptop screen and in report.html), the plots, the method-specific views that apply
 * ({@link ReportViews}), and every run.
 */
final class ReportMarkdown {
    private static final int HORIZON = CompareReport.REACH_HORIZON;

    private final CompareReport report;
    private final CompareReport.Context ctx;
    private final List<Row> rows;
    private final ReportViews views;
    /** Per config, the first seed round's run that has summary.json's memory keys (null where none has). */
    private final List<RunResult> withMemory = new ArrayList<>();
    private final StringBuilder md = new StringBuilder();

    ReportMarkdown(CompareReport report, CompareReport.Context ctx) {
        this.report = report;
        this.ctx = ctx;
        this.rows = report.rows();
        this.views = ReportViews.of(report, rows);
        for (int c = 0; c < report.configs().size(); c++)
            withMemory.add(report.runs(c).stream().filter(r -> r != null && r.memory() != null).findFirst().orElse(null));
    }

    String render() {
        header();
        verdicts();
        results();
        if (ctx.plots()) plots();
        if (views.anyEqualCompute()) equalCompute();
        heldOut();
        if (memoryShown()) memory();
        runs();
        command();
        return md.toString();
    }

    private boolean memoryShown() {
        return views.memory() && withMemory.stream().anyMatch(r -> r != null);
    }

    private void header() {
        List<String> configs = report.configs();
        List<Long> seeds = report.seeds();
        md.append("# Sprout compare: ").append(String.join(" vs ", configs)).append("\n\n");
        md.append("- Data: `").append(ctx.data()).append("`\n");
        if (seeds.isEmpty()) {
            md.append("- Seeds: none given (one run per config, each with its config's `seed`)\n");
        } else {
            md.append("- Seeds: ").append(seeds.stream().map(String::valueOf).collect(Collectors.joining(", ")))
                    .append(" (each config runs once per seed with `seed=N`; every run is compared with the baseline run of the same seed")
                    .append(seeds.size() > 1 ? "; a ± b is the mean and sample standard deviation over seeds)\n" : ")\n");
        }
        md.append("- Baseline: `").append(configs.get(0)).append("` (the first config). Its final val loss, the target below: ")
                .append(report.baselineTarget().format(4)).append("\n");
        int missing = 0;
        boolean incomplete = false;
        for (int c = 0; c < configs.size(); c++) {
            for (RunResult r : report.runs(c)) {
                if (r == null) missing++;
                else incomplete |= !r.complete();
            }
        }
        if (missing > 0) md.append("- **").append(missing).append(" run(s) missing**: the tables cover the runs that exist (see Runs)\n");
        if (incomplete) md.append("- Some runs stopped before `train.max_steps` (`--max-steps` or an interruption); see Runs\n");
        md.append('\n');
    }

    /** One line per config after the baseline: the report's answer before its tables. */
    private void verdicts() {
        if (rows.size() < 2) return;
        md.append("## Verdicts\n\n");
        for (Row r : rows.subList(1, rows.size())) md.append("- ").append(VerdictLine.of(r)).append('\n');
        md.append("\nEach against the baseline run of the same seed: total FLOPs as a multiple of the baseline's, the val loss difference "
                + "at equal FLOPs (positive = behind; see Loss), and whether the run gets to the baseline's final val loss, and at what "
                + "multiple of the baseline's FLOPs (see Reaching the baseline").append(views.anyEqualCompute() ? " and the equal-compute view" : "")
                .append(").\n\n");
    }

    private void results() {
        md.append("## Results\n\n");
        MarkdownTable loss = new MarkdownTable().text("config").text("method").number("final val loss")
                .number("baseline's val loss at this run's total FLOPs").number("val loss minus baseline's at equal FLOPs");
        MarkdownTable cost = new MarkdownTable().text("config").number("steps").number("tokens/param").number("FLOPs vs baseline")
                .number("block FLOPs vs baseline").number("wall-clock vs baseline");
        MarkdownTable reach = new MarkdownTable().text("config").number("FLOPs to reach baseline's final val loss (x baseline's total FLOPs)")
                .number("wall-clock to reach it (x baseline's total wall-clock)");
        for (Row r : rows) {
            Stat gap = r.valLossMinusBaselineAtEqualFlops();
            loss.row(name(r), r.method(), r.finalValLoss().format(4), r.baselineValAtEqualFlops().format(4),
                    inRounds(signed(gap), gap.n(), r.versus().size()));
            cost.row(name(r), steps(r.steps()), r.tokensPerParam().format(2), r.flopsRatio().format(3), r.blockFlopsRatio().format(3),
                    r.wallRatio().format(3));
            reach.row(name(r), reachCell(r, true), reachCell(r, false));
        }
        md.append("### Loss\n\n").append(loss.render()).append('\n');
        md.append("### Cost\n\n").append(cost.render()).append('\n');
        md.append("### Reaching the baseline\n\n").append(reach.render()).append('\n');

        md.append("### How to read this\n\n");
        md.append("Ratios are this config's cost divided by the baseline's total cost (below 1 = cheaper), each run paired with the "
                + "baseline run of the same seed. \"val loss minus baseline's at equal FLOPs\" sets the two curves side by side at the same "
                + "compute: at this run's total FLOPs when the baseline's curve covers them (the run's final val loss minus the column before), "
                + "else at the baseline's total FLOPs (the run's curve there minus the baseline's final val loss, for runs that spend more "
                + "than the baseline); negative = ahead at equal compute, n/a when neither curve reaches the other's end. \"baseline's val loss "
                + "at this run's total FLOPs\" is the baseline's curve interpolated linearly there (n/a when they fall outside the baseline's "
                + "evaluated range). \"FLOPs to reach\" is where the run's validation curve (evaluations of the full model, in step order) "
                + "first gets to the baseline's final val loss, interpolated linearly between the evaluation just above that loss and the first "
                + "one at or below it; a value below 1 means the method matched the baseline's result with less compute. \"not reached\" gives "
                + "the run's best val loss instead, and where it was (as a fraction of the baseline's FLOPs or wall-clock). Wall-clock is "
                + "training time only (evaluation excluded), measured on this machine, so it is noisier than FLOPs; FLOPs count exactly the "
                + "matmuls each step ran. \"block FLOPs\" leaves out the LM head (which no subnetwork method shrinks): with a large vocabulary "
                + "and a small model the head dominates, and the whole-model ratio cannot go far below 1 whatever the blocks save. "
                + "tokens/param is training tokens seen per model parameter.\n\n");
        md.append("Views that do not apply are left out. The equal-compute view covers the configs whose method grows the model "
                + "(incremental, stacking) or whose runs spend more than ").append(ReportViews.PAST_BASELINE_FLOPS)
                .append("x the baseline's FLOPs (a low-rank method's few percent over the dense step do not count); the memory table "
                        + "appears when a low-rank method (lora, switchlora, relora, galore) is in the comparison.");
        List<String> leftOut = new ArrayList<>();
        if (!views.anyEqualCompute()) leftOut.add("the equal-compute view (no config grows the model or spends more than "
                + ReportViews.PAST_BASELINE_FLOPS + "x the baseline's FLOPs)");
        if (!views.memory()) leftOut.add("the memory table (no low-rank method)");
        else if (!memoryShown()) leftOut.add("the memory table (the runs' summary.json predate the memory keys)");
        if (!leftOut.isEmpty()) md.append(" Left out here: ").append(String.join("; ", leftOut)).append('.');
        md.append("\n\n");
    }

    private void plots() {
        md.append("## Plots\n\n");
        md.append("![val loss vs FLOPs](").append(CompareReport.FLOPS_PLOT).append(")\n\n");
        md.append("![val loss vs FLOPs, from half the baseline's FLOPs on](").append(CompareReport.FLOPS_ZOOM_PLOT).append(")\n\n");
        md.append("![val loss vs wall-clock](").append(CompareReport.WALL_PLOT).append(")\n\n");
        md.append(report.rounds() > 1
                ? "Each line is one config's mean over its seeds: at every evaluation step that all its seeds have, the mean val loss at the "
                        + "mean FLOPs (or seconds); the shaded band around it is ± one sample standard deviation of the val loss over the seeds. "
                : "Each line is one run's validation curve. ");
        md.append("The baseline is the thick black line; the dashed line is its final val loss; thin vertical lines in a config's colour mark "
                + "its stage boundaries. The second plot zooms on the last half of the baseline's run: from half its total FLOPs to the end of "
                + "the longest curve, with the loss axis fitted to what is visible there.\n\n");
    }

    /** Growth methods held to the baseline's budget: the rows {@link ReportViews} selects. */
    private void equalCompute() {
        md.append("## Equal-compute view\n\n");
        MarkdownTable t = new MarkdownTable().text("config").number("FLOPs vs baseline").number("cost vs baseline, paper's model")
                .number("val loss at baseline's total FLOPs").number("minus baseline's final val loss")
                .number("FLOPs to reach baseline's final val loss (x baseline's total, within " + HORIZON + "x)");
        for (int c = 0; c < rows.size(); c++) {
            if (!views.equalCompute().get(c)) continue;
            Row r = rows.get(c);
            EqualCompute e = CompareReport.equalCompute(r);
            int pairs = r.versus().size();
            t.row(name(r), r.flopsRatio().format(3), inRounds(e.paperCostRatio().format(3), e.paperCostRatio().n(), pairs),
                    valAtBaselineFlopsCell(e, pairs),
                    inRounds(signed(e.valAtBaselineFlopsMinusTarget()), e.valAtBaselineFlopsMinusTarget().n(), pairs),
                    reachWithinHorizonCell(e));
        }
        md.append(t.render()).append('\n');
        md.append("### How to read this\n\n");
        md.append("Growth methods (incremental training, stacking) may spend more compute than the baseline, so this view holds each "
                + "run to its baseline run's budget (same seed); it lists the configs that grow the model or spend more than "
                + ReportViews.PAST_BASELINE_FLOPS + "x the baseline's FLOPs. \"val loss at baseline's total FLOPs\" is the run's own "
                + "validation curve interpolated linearly at the baseline's total FLOPs, and the next column subtracts the baseline's final "
                + "val loss (negative = ahead at equal compute); \"ends at 0.71x\" means the run's curve stops before that budget, at that "
                + "fraction of it. \"FLOPs to reach\" is where the run first gets to the baseline's final val loss (interpolated as in "
                + "Results), as a multiple of the baseline's total FLOPs: \"not within " + HORIZON + "x\" when it gets there only later, or not "
                + "at all in a curve that runs past " + HORIZON + "x; \"not reached (ends at 1.50x)\" when the curve stops earlier without getting "
                + "there; the verdict lines at the top judge reaching the same way. Where the run's curve ends is its last evaluation's "
                + "FLOPs. \"cost vs baseline, paper's model\" is the same cost ratio under the incremental-training paper's convention "
                + "(block FLOPs only, backward = forward, backward only through trainable blocks), for setting our numbers beside the "
                + "paper's; it counts the dense block matrices, so runs with low-rank adapters read 1.000 there whatever their adapters "
                + "cost; n/a for runs that predate it. Over several seeds, \"in k/n seeds\" says how many seeds a value covers.\n\n");
    }

    private void heldOut() {
        CompareReport.HeldOut h = report.heldOut();
        if (h == null) return;
        md.append("## Held-out data\n\n");
        md.append("Each run's newest weights (adapters merged) on the validation windows of `").append(h.data())
                .append("`, text none of the runs trained on (`sprout eval`).\n\n");
        MarkdownTable t = new MarkdownTable().text("config").number("runs").number("loss").number("bits per byte").number("loss vs baseline");
        Stat base = Stat.of(h.loss().get(0));
        for (int c = 0; c < report.configs().size(); c++) {
            Stat loss = Stat.of(h.loss().get(c)), bpb = Stat.of(h.bitsPerByte().get(c));
            t.row(report.configs().get(c), String.valueOf(loss.n()), loss.format(4), bpb.format(4),
                    c == 0 || loss.n() == 0 || base.n() == 0 ? "-" : String.format(Locale.ROOT, "%+.4f", loss.mean() - base.mean()));
        }
        md.append(t.render()).append('\n');
    }

    /** The training state's memory per config, from summary.json (the first seed round's run that has it): what low-rank methods save. */
    private void memory() {
        RunResult.Memory base = withMemory.get(0) == null ? null : withMemory.get(0).memory();
        MarkdownTable params = new MarkdownTable().text("config").number("trainable params").number("of them in blocks")
                .number("blocks' gradient MB");
        MarkdownTable state = new MarkdownTable().text("config").number("optimizer state MB").number("blocks' optimizer state MB")
                .number("blocks' optimizer state vs baseline").number("peak resident MB");
        for (int c = 0; c < report.configs().size(); c++) {
            String config = report.configs().get(c);
            RunResult r = withMemory.get(c);
            if (r == null) {
                params.row(config, "n/a", "", "");
                state.row(config, "n/a", "", "", "");
                continue;
            }
            RunResult.Memory m = r.memory();
            params.row(config, String.format(Locale.ROOT, "%,d", m.trainableParams()), String.format(Locale.ROOT, "%,d", m.trainableParamsBlocks()),
                    mb(m.gradientBytesBlocks()));
            state.row(config, mb(m.optimizerStateBytes()), mb(m.optimizerStateBytesBlocks()),
                    base == null || base.optimizerStateBytesBlocks() == 0 ? "n/a" : fmt((double) m.optimizerStateBytesBlocks() / base.optimizerStateBytesBlocks(), 3),
                    m.peakRssBytes() < 0 ? "n/a" : String.format(Locale.ROOT, "%.0f", m.peakRssBytes() / 1e6));
        }
        md.append("## Memory\n\n");
        md.append("### Trainable parameters and gradients\n\n").append(params.render()).append('\n');
        md.append("### Optimizer state and peak memory\n\n").append(state.render()).append('\n');
        md.append("From each run's summary.json (the first seed's). Optimizer state is AdamW's moments (and GaLore's bases); "
                + "\"blocks\" counts the transformer blocks' parameters alone, where low-rank methods act. Peak resident memory is the "
                + "training session's high-water mark (reset when each run starts; a resumed run's covers its last session only).\n\n");
    }

    private void runs() {
        MarkdownTable totals = new MarkdownTable().text("run").number("seed").number("steps").number("final val loss").number("FLOPs")
                .number("wall s");
        boolean stages = false;
        for (int c = 0; c < report.configs().size(); c++) for (RunResult r : report.runs(c)) stages |= r != null && !r.curve().boundaries().isEmpty();
        MarkdownTable against = new MarkdownTable().text("run").text("reaches baseline's final val loss");
        if (stages) against.text("stage boundaries");
        for (int c = 0; c < report.configs().size(); c++) {
            for (int k = 0; k < report.rounds(); k++) {
                RunResult r = report.runs(c).get(k);
                Long seed = report.seeds().isEmpty() ? null : report.seeds().get(k);
                if (r == null) {
                    String run = report.configs().get(c) + (seed == null ? "" : " (seed " + seed + ")");
                    totals.row(run, seed == null ? "" : String.valueOf(seed), "missing", "", "", "");
                    continue;
                }
                String run = "`" + r.dir().getFileName() + "`";
                totals.row(run, r.configSeed() == null ? "?" : String.valueOf(r.configSeed()), stepsCell(r), fmt(r.finalValLoss(), 4),
                        String.format(Locale.ROOT, "%.3e", r.flops()), fmt(r.wallS(), 1));
                RunResult b = report.runs(0).get(k);
                String reach = runReachCell(b == null ? null : CompareReport.versus(r, b));
                if (stages) against.row(run, reach, boundaries(r.curve()));
                else against.row(run, reach);
            }
        }
        md.append("## Runs\n\n").append(totals.render()).append('\n');
        md.append("### Each run against the baseline run of its seed\n\n").append(against.render()).append('\n');
    }

    private void command() {
        md.append("## Command\n\n");
        if (ctx.reportOnly()) md.append("This report was rebuilt from existing run folders:\n\n");
        md.append("```\n").append(ctx.commandLine()).append("\n```\n");
    }

    /** The config's name, with how many of its runs exist when some are missing. */
    private static String name(Row r) {
        return r.config() + (r.runs() < r.rounds() ? " (" + r.runs() + "/" + r.rounds() + " runs)" : "");
    }

    /** "40", or "20 of 40 (incomplete)" for a run that stopped before train.max_steps. */
    private static String stepsCell(RunResult r) {
        if (r.complete()) return String.valueOf(r.steps());
        return r.steps() + (r.maxSteps() > 0 ? " of " + r.maxSteps() : "") + " (incomplete)";
    }

    private static String runReachCell(Versus v) {
        if (v == null) return "no baseline run";
        if (!v.hasTarget()) return "n/a (baseline has no val loss)";
        if (v.reached()) return String.format(Locale.ROOT, "by step %d: %s FLOPs, %s wall", v.reach().step(), fmt(v.reachFlopsRatio(), 3), fmt(v.reachWallRatio(), 3));
        if (v.best() == null) return "not reached (no evaluation)";
        return String.format(Locale.ROOT, "not reached (best %s at step %d)", fmt(v.best().valLoss(), 4), v.best().step());
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

    private static String valAtBaselineFlopsCell(EqualCompute e, int pairs) {
        List<String> parts = new ArrayList<>();
        if (e.valAtBaselineFlops().n() > 0) parts.add(inRounds(e.valAtBaselineFlops().format(4), e.valAtBaselineFlops().n(), pairs));
        if (e.shortCurveEndFlopsRatio().n() > 0)
            parts.add(inRounds("ends at " + times(e.shortCurveEndFlopsRatio()), e.shortCurveEndFlopsRatio().n(), pairs));
        return parts.isEmpty() ? "n/a" : String.join("; ", parts);
    }

    private static String reachWithinHorizonCell(EqualCompute e) {
        int judged = e.judged();
        List<String> parts = new ArrayList<>();
        if (e.reachFlopsRatioWithinHorizon().n() > 0)
            parts.add(inRounds(times(e.reachFlopsRatioWithinHorizon()), e.reachFlopsRatioWithinHorizon().n(), judged));
        if (e.notWithinHorizon() > 0) parts.add(inRounds("not within " + HORIZON + "x", e.notWithinHorizon(), judged));
        if (e.endFlopsRatioBeforeHorizon().n() > 0)
            parts.add(inRounds("not reached (ends at " + times(e.endFlopsRatioBeforeHorizon()) + ")", e.endFlopsRatioBeforeHorizon().n(), judged));
        return parts.isEmpty() ? "n/a" : String.join("; ", parts);
    }

    /** "2 → 3 @ 12, 3 → 4 @ 24" (label changes with their step), "" when none. */
    static String boundaries(RunCurve c) {
        return c.boundaries().stream()
                .map(b -> (b.from() == null ? "-" : b.from()) + " → " + (b.stage() == null ? "-" : b.stage()) + " @ " + b.step())
                .collect(Collectors.joining(", "));
    }
}
