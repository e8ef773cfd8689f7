package dev.sprout.report;

import static dev.sprout.report.Formats.seeds;
import static dev.sprout.report.Formats.signed;
import static dev.sprout.report.Formats.times;

import dev.sprout.report.CompareReport.EqualCompute;
import dev.sprout.report.CompareReport.Row;
import dev.sprout.report.CompareReport.TargetByHorizon;
import dev.sprout.report.CompareReport.Versus;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The line that opens the report for one config: what it cost, where it stands at equal FLOPs and whether it reaches the
 * baseline's final val loss, each from a number the tables below show (the Cost table's FLOPs ratio, the Loss table's
 * difference at equal FLOPs, the equal-compute view's FLOPs to reach within {@link CompareReport#REACH_HORIZON}x), so
 * that the line and the tables cannot disagree.
 */
final class VerdictLine {
    private VerdictLine() {}

    /**
     * E.g. "**raptr**: 0.72x FLOPs, +0.0480 ± 0.0050 val loss at equal FLOPs (behind in 3 of 3 seeds), does not reach
     * the baseline's final val loss (its curve ends at 0.72x its FLOPs)".
     */
    static String of(Row row) {
        StringBuilder sb = new StringBuilder("**").append(row.config()).append("**: ");
        if (row.versus().isEmpty()) return sb.append(row.runs() == 0 ? "no runs yet" : "no baseline run of the same seed to compare with").toString();
        sb.append(row.flopsRatio().n() == 0 ? "FLOPs n/a" : String.format(Locale.ROOT, "%.2fx FLOPs", row.flopsRatio().mean()));
        sb.append(", ").append(standing(row, row.rounds() > 1));
        EqualCompute e = CompareReport.equalCompute(row);
        sb.append(", ").append(reach(e));
        if (row.method().contains("incremental")) sb.append(paperFinding(row));
        return sb.toString();
    }

    /**
     * "+0.0480 val loss at equal FLOPs (behind)"; with several seeds, how many seeds were behind, ahead and level, so a
     * mean that hides a split ("-0.0038 ± 0.0049") still shows it: "(behind in 1, ahead in 2 of 3 seeds)".
     */
    private static String standing(Row row, boolean severalSeeds) {
        List<Double> gaps = row.versus().stream().map(Versus::valLossMinusBaselineAtEqualFlops).filter(Double::isFinite).toList();
        if (gaps.isEmpty()) return "val loss at equal FLOPs n/a (its curve and the baseline's do not overlap at either's end)";
        long behind = gaps.stream().filter(g -> g > 0).count(), ahead = gaps.stream().filter(g -> g < 0).count();
        long level = gaps.size() - behind - ahead;
        List<String> counts = new ArrayList<>();
        if (behind > 0) counts.add(severalSeeds ? "behind in " + behind : "behind");
        if (ahead > 0) counts.add(severalSeeds ? "ahead in " + ahead : "ahead");
        if (level > 0) counts.add(severalSeeds ? "level in " + level : "level");
        String of = severalSeeds ? " of " + seeds(gaps.size()) : "";
        return signed(Stat.of(gaps)) + " val loss at equal FLOPs (" + String.join(", ", counts) + of + ")";
    }

    /** Whether it reaches the baseline's final val loss, judged against the horizon as the equal-compute view does. */
    private static String reach(EqualCompute e) {
        int judged = e.judged(), within = e.reachFlopsRatioWithinHorizon().n(), notWithin = e.notWithinHorizon();
        int endsFirst = e.endFlopsRatioBeforeHorizon().n();
        String target = "the baseline's final val loss";
        if (judged == 0) return "reaching " + target + " n/a (no val loss on one side)";
        String ofSeeds = judged > 1 ? " (" + within + " of " + seeds(judged) + ")" : "";
        if (within == judged) return "reaches " + target + " at " + times(e.reachFlopsRatioWithinHorizon()) + " its FLOPs" + ofSeeds;
        if (within > 0) return "reaches " + target + " in " + within + " of " + seeds(judged) + " (at "
                + times(e.reachFlopsRatioWithinHorizon()) + " its FLOPs)";
        String horizon = "within " + CompareReport.REACH_HORIZON + "x its FLOPs";
        String curveEnds = (endsFirst > 1 ? "its curves end at " : "its curve ends at ") + times(e.endFlopsRatioBeforeHorizon()) + " its FLOPs";
        if (notWithin == judged) return "does not reach " + target + " " + horizon + (judged > 1 ? " (" + seeds(judged) + ")" : "");
        if (endsFirst == judged) return "does not reach " + target + " (" + curveEnds + ")";
        return "does not reach " + target + " (not " + horizon + " in " + notWithin + " of " + seeds(judged) + "; in "
                + endsFirst + ", " + curveEnds + ")";
    }

    /**
     * For incremental training, whether the paper's negative finding holds: behind at the baseline's total FLOPs, and
     * needing more than the baseline's compute to catch up (reaching its final val loss only past 1x, or not within the
     * horizon), counted over the seeds where the run's curve reaches the baseline's total FLOPs.
     */
    private static String paperFinding(Row row) {
        List<Versus> judged = row.versus().stream().filter(v -> v.hasTarget() && Double.isFinite(v.valAtBaselineFlops())).toList();
        if (judged.isEmpty()) return "";
        int n = judged.size();
        long reproduces = judged.stream().filter(v -> v.valAtBaselineFlopsMinusTarget() > 0
                && (v.targetByHorizon() != TargetByHorizon.REACHED || v.reachFlopsRatio() > 1)).count();
        return "; **the incremental-training paper's negative finding (behind at equal compute, and more compute than the baseline's "
                + "needed to catch up) " + (reproduces == n ? "reproduces" : reproduces == 0 ? "does not reproduce" : "reproduces in part")
                + " (" + reproduces + " of " + seeds(n) + ")**";
    }
}
