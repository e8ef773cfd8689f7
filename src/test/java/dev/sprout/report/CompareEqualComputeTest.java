package dev.sprout.report;

import static dev.sprout.report.SyntheticRun.table;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report's equal-compute view on hand-written runs. The baseline is {@link CompareReportTest#baseline}: evals at 1e9 to
 * 4e9 FLOPs, final val loss 2.0 at 4e9 FLOPs, so a run's multiples are its FLOPs over 4e9.
 */
class CompareEqualComputeTest {
    @TempDir
    Path tmp;

    /** Passes 2.0 between 2.1 at 5e9 and 1.6 at 6e9, a fifth of the way: 5.2e9 = 1.30x; at 4e9 it is at 2.3 (see below). */
    static SyntheticRun stacking() {
        return SyntheticRun.of("stacking").eval(10, 1e9, 1, 3.2).eval(20, 2.5e9, 2, 2.6).eval(30, 4.5e9, 3, 2.2).eval(40, 5e9, 4, 2.1)
                .eval(50, 6e9, 5, 1.6);
    }

    /** Passes 2.0 between 2.1 at 8e9 and 1.975 at 10e9: 9.6e9 = 2.4x. At 4e9 it is at 2.4. */
    static SyntheticRun late() {
        return SyntheticRun.of("incremental").eval(10, 2e9, 1, 2.8).eval(20, 4e9, 2, 2.4).eval(30, 8e9, 3, 2.1).eval(40, 10e9, 4, 1.975);
    }

    /** Ends at 6e9 = 1.50x, still at 2.1. At 4e9 it is at 2.3. */
    static SyntheticRun shortOfTarget() {
        return SyntheticRun.of("incremental").eval(10, 2e9, 1, 2.8).eval(20, 4e9, 2, 2.3).eval(30, 6e9, 3, 2.1);
    }

    /** Ends at 2.84e9 = 0.71x, before the baseline's FLOPs. */
    static SyntheticRun early() {
        return SyntheticRun.of("incremental").eval(10, 1e9, 1, 3.0).eval(20, 2.84e9, 2, 2.3);
    }

    private RunResult read(String name, Long seed, SyntheticRun r) throws IOException {
        return RunResult.read(name, seed, r.write(tmp.resolve(name + (seed == null ? "" : "-seed" + seed))));
    }

    @Test
    void oneSeedRound() throws IOException {
        RunResult b = read("baseline", null, CompareReportTest.baseline(2.5, 2.2, 2.0).flopsPaperModel(2e9));
        RunResult stack = read("stack", null, stacking().flopsPaperModel(2.4e9));
        RunResult late = read("late", null, late());
        RunResult shortRun = read("short", null, shortOfTarget());
        RunResult early = read("early", null, early());
        RunResult wide = read("wide", null, SyntheticRun.of("incremental").eval(10, 4e9, 1, 2.5).eval(20, 9e9, 2, 2.1));

        CompareReport.Versus s = CompareReport.versus(stack, b);
        // at 4e9 FLOPs: between 2.6 at 2.5e9 and 2.2 at 4.5e9, (4 - 2.5) / (4.5 - 2.5) = 0.75 of the way: 2.6 - 0.75 * 0.4 = 2.3
        assertEquals(2.3, s.valAtBaselineFlops(), 1e-12);
        assertEquals(0.3, s.valAtBaselineFlopsMinusTarget(), 1e-12);
        assertEquals(1.3, s.reachFlopsRatio(), 1e-12);
        assertEquals(1.2, s.paperCostRatio(), 1e-12, "2.4e9 / 2e9 under the paper's convention");
        assertEquals(CompareReport.TargetByHorizon.REACHED, s.targetByHorizon());
        assertEquals(1.5, s.curveEndFlopsRatio(), 1e-12);

        assertEquals(2.4, CompareReport.versus(late, b).reachFlopsRatio(), 1e-12);
        assertEquals(CompareReport.TargetByHorizon.NOT_WITHIN, CompareReport.versus(late, b).targetByHorizon(), "reached, but past 2x");
        assertTrue(Double.isNaN(CompareReport.versus(late, b).paperCostRatio()), "the run has no flops_paper_model");
        assertTrue(Double.isNaN(late.flopsPaperModel()), "an absent key reads as NaN");
        assertEquals(2e9, b.flopsPaperModel());
        assertTrue(Double.isNaN(CompareReport.versus(stack, late).paperCostRatio()), "the baseline has no flops_paper_model");
        assertEquals(CompareReport.TargetByHorizon.CURVE_ENDS_FIRST, CompareReport.versus(shortRun, b).targetByHorizon());
        assertEquals(CompareReport.TargetByHorizon.NOT_WITHIN, CompareReport.versus(wide, b).targetByHorizon(), "runs past 2x without reaching");

        CompareReport.Versus e = CompareReport.versus(early, b);
        assertTrue(Double.isNaN(e.valAtBaselineFlops()), "the curve ends before 4e9 FLOPs");
        assertEquals(0.71, e.curveEndFlopsRatio(), 1e-12);

        CompareReport report = new CompareReport(List.of("baseline", "stack", "late", "short", "early", "wide"), List.of(),
                table(new RunResult[] {b}, new RunResult[] {stack}, new RunResult[] {late}, new RunResult[] {shortRun}, new RunResult[] {early},
                        new RunResult[] {wide}));
        String md = report.markdown(new CompareReport.Context("d", "c", false, false));
        String view = section(md, "## Equal-compute view");
        assertTrue(view.contains("| stack | 1.500 | 1.200 | 2.3000 | +0.3000 | 1.30x |"), view);
        assertTrue(view.contains("| late | 2.500 | n/a | 2.4000 | +0.4000 | not within 2x |"), view);
        assertTrue(view.contains("| short | 1.500 | n/a | 2.3000 | +0.3000 | not reached (ends at 1.50x) |"), view);
        assertTrue(view.contains("| early | 0.710 | n/a | ends at 0.71x | n/a | not reached (ends at 0.71x) |"), view);
        assertTrue(view.contains("| wide | 2.250 | n/a | 2.5000 | +0.5000 | not within 2x |"), view);
        assertFalse(view.contains("| baseline |"), "the baseline is the view's reference, not a row of it: " + view);
        assertTrue(view.contains("### How to read this"), view);
        // the verdict lines judge reaching as the view does; stacking is behind at 4e9 but reaches at 1.30x (no paper's
        // finding: it is not incremental training)
        String verdicts = section(md, "## Verdicts");
        assertTrue(verdicts.contains("- **stack**: 1.50x FLOPs, +0.3000 val loss at equal FLOPs (behind), reaches the baseline's final val loss "
                + "at 1.30x its FLOPs\n"), verdicts);
        String finding = "; **the incremental-training paper's negative finding (behind at equal compute, and more compute than the baseline's "
                + "needed to catch up) reproduces (1 of 1 seed)**\n";
        assertTrue(verdicts.contains("- **late**: 2.50x FLOPs, +0.4000 val loss at equal FLOPs (behind), does not reach the baseline's final "
                + "val loss within 2x its FLOPs" + finding), verdicts);
        assertTrue(verdicts.contains("- **short**: 1.50x FLOPs, +0.3000 val loss at equal FLOPs (behind), does not reach the baseline's final "
                + "val loss (its curve ends at 1.50x its FLOPs)" + finding), verdicts);
        // a curve that ends before the baseline's FLOPs is compared at its own end (the baseline there: 2.5 - 0.84 * 0.3),
        // and the paper's finding, stated at the baseline's total FLOPs, cannot be judged
        assertTrue(verdicts.contains("- **early**: 0.71x FLOPs, +0.0520 val loss at equal FLOPs (behind), does not reach the baseline's final "
                + "val loss (its curve ends at 0.71x its FLOPs)\n"), verdicts);
        assertTrue(verdicts.contains("- **wide**: 2.25x FLOPs, +0.5000 val loss at equal FLOPs (behind), does not reach the baseline's final "
                + "val loss within 2x its FLOPs" + finding), verdicts);
        RunResult fast = read("fast", null, SyntheticRun.of("stacking").eval(10, 1e9, 1, 2.4).eval(20, 3e9, 2, 1.95).eval(30, 4e9, 3, 1.9));
        assertEquals("**fast**: 1.00x FLOPs, -0.1000 val loss at equal FLOPs (ahead), reaches the baseline's final val loss at 0.69x its FLOPs",
                VerdictLine.of(new CompareReport(List.of("baseline", "fast"), List.of(), table(new RunResult[] {b}, new RunResult[] {fast})).rows().get(1)));
        assertTrue(md.indexOf("## Results") < md.indexOf("## Equal-compute view") && md.indexOf("## Equal-compute view") < md.indexOf("## Runs"),
                "the view comes right after Results: " + md);
    }

    @Test
    void twoSeedRoundsArePairedThenAggregated() throws IOException {
        // seed 2's baseline: target 2.2 at 4e9 FLOPs, and no flops_paper_model
        RunResult b1 = read("baseline", 1L, CompareReportTest.baseline(2.5, 2.2, 2.0).seed(1).flopsPaperModel(2e9));
        RunResult b2 = read("baseline", 2L, CompareReportTest.baseline(2.6, 2.4, 2.2).seed(2));
        RunResult stack1 = read("stack", 1L, stacking().seed(1).flopsPaperModel(2.4e9));
        // at 4e9 at 2.4; passes 2.2 between 2.4 at 4e9 and 1.9 at 6e9, 0.4 of the way: 4.8e9 = 1.20x
        RunResult stack2 = read("stack", 2L, SyntheticRun.of("stacking").eval(10, 1e9, 1, 3.2).eval(20, 4e9, 2, 2.4).eval(30, 6e9, 3, 1.9)
                .seed(2).flopsPaperModel(3e9));
        RunResult grow1 = read("grow", 1L, stacking().seed(1));
        RunResult grow2 = read("grow", 2L, early().seed(2));
        CompareReport report = new CompareReport(List.of("baseline", "stack", "grow"), List.of(1L, 2L),
                table(new RunResult[] {b1, b2}, new RunResult[] {stack1, stack2}, new RunResult[] {grow1, grow2}));

        CompareReport.EqualCompute stack = CompareReport.equalCompute(report.rows().get(1));
        assertEquals(2.35, stack.valAtBaselineFlops().mean(), 1e-12);
        assertEquals(0.25, stack.valAtBaselineFlopsMinusTarget().mean(), 1e-12, "2.3 - 2.0 (seed 1) and 2.4 - 2.2 (seed 2)");
        assertEquals(1.25, stack.reachFlopsRatioWithinHorizon().mean(), 1e-12);
        assertEquals(0.1 / Math.sqrt(2), stack.reachFlopsRatioWithinHorizon().std(), 1e-12);
        assertEquals(1, stack.paperCostRatio().n(), "only seed 1's baseline has flops_paper_model");
        assertEquals(2, stack.judged());

        CompareReport.EqualCompute grow = CompareReport.equalCompute(report.rows().get(2));
        assertEquals(1, grow.reachFlopsRatioWithinHorizon().n());
        assertEquals(0, grow.notWithinHorizon());
        assertEquals(0.71, grow.endFlopsRatioBeforeHorizon().mean(), 1e-12);
        assertEquals(0.71, grow.shortCurveEndFlopsRatio().mean(), 1e-12);

        String md = report.markdown(new CompareReport.Context("d", "c", false, false));
        String view = section(md, "## Equal-compute view");
        assertTrue(view.contains("| stack | 1.500 ± 0.000 | 1.200 in 1/2 seeds | 2.3500 ± 0.0707 | +0.2500 ± 0.0707 | 1.25x ± 0.07 |"), view);
        assertTrue(view.contains("| grow | 1.105 ± 0.559 | n/a | 2.3000 in 1/2 seeds; ends at 0.71x in 1/2 seeds "
                + "| +0.3000 in 1/2 seeds | 1.30x in 1/2 seeds; not reached (ends at 0.71x) in 1/2 seeds |"), view);
        String verdicts = section(md, "## Verdicts");
        assertTrue(verdicts.contains("- **stack**: 1.50x FLOPs, +0.2500 ± 0.0707 val loss at equal FLOPs (behind in 2 of 2 seeds), reaches the "
                + "baseline's final val loss at 1.25x ± 0.07 its FLOPs (2 of 2 seeds)\n"), verdicts);
        // seed 1 behind by 0.3 at the baseline's total FLOPs; seed 2 ends at 0.71x, 2.3 against the baseline's 2.432 there
        assertTrue(verdicts.contains("- **grow**: 1.11x FLOPs, +0.0840 ± 0.3055 val loss at equal FLOPs (behind in 1, ahead in 1 of 2 seeds), reaches "
                + "the baseline's final val loss in 1 of 2 seeds (at 1.30x its FLOPs)"), verdicts);

        // an incremental run ahead at equal compute on one seed and behind (never catching up) on the other
        RunResult ahead = read("inc", 1L, SyntheticRun.of("incremental").eval(10, 2e9, 1, 2.4).eval(20, 4e9, 2, 1.9).eval(30, 8e9, 3, 1.8).seed(1));
        RunResult behind = read("inc", 2L, SyntheticRun.of("incremental").eval(10, 2e9, 1, 2.8).eval(20, 4e9, 2, 2.5).eval(30, 9e9, 3, 2.3).seed(2));
        CompareReport mixed = new CompareReport(List.of("baseline", "inc"), List.of(1L, 2L), table(new RunResult[] {b1, b2}, new RunResult[] {ahead, behind}));
        String v = VerdictLine.of(mixed.rows().get(1));
        assertEquals("**inc**: 2.13x FLOPs, +0.1000 ± 0.2828 val loss at equal FLOPs (behind in 1, ahead in 1 of 2 seeds), reaches the baseline's final val "
                + "loss in 1 of 2 seeds (at 0.90x its FLOPs); **the incremental-training paper's negative finding (behind at equal compute, and "
                + "more compute than the baseline's needed to catch up) reproduces in part (1 of 2 seeds)**", v);
    }

    @Test
    void noTargetNoVerdict() throws IOException {
        RunResult b = read("baseline", null, SyntheticRun.of("baseline").step(10, 1e9, 1, null).step(20, 2e9, 2, null));
        RunResult m = read("stack", null, stacking());
        CompareReport.Versus v = CompareReport.versus(m, b);
        assertNull(v.targetByHorizon(), "a baseline without evaluations has no final val loss to reach");
        String md = new CompareReport(List.of("baseline", "stack"), List.of(), table(new RunResult[] {b}, new RunResult[] {m}))
                .markdown(new CompareReport.Context("d", "c", false, false));
        // at 2e9 FLOPs, 2/3 of the way from 3.2 at 1e9 to 2.6 at 2.5e9: 2.8; but no final val loss to subtract or to reach
        assertTrue(section(md, "## Equal-compute view").contains("| stack | 3.000 | n/a | 2.8000 | n/a | n/a |"), md);
        assertTrue(section(md, "## Verdicts").contains("- **stack**: 3.00x FLOPs, val loss at equal FLOPs n/a (its curve and the baseline's do "
                + "not overlap at either's end), reaching the baseline's final val loss n/a (no val loss on one side)\n"), md);
    }

    /** The text of the section that starts with {@code heading}, up to the next "## " heading. */
    static String section(String md, String heading) {
        int start = md.indexOf(heading);
        assertTrue(start >= 0, heading + " in " + md);
        int end = md.indexOf("\n## ", start + heading.length());
        return end < 0 ? md.substring(start) : md.substring(start, end);
    }
}
