package dev.sprout.report;

import static dev.sprout.report.SyntheticRun.table;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The compare report's numbers on hand-written run folders (no training). */
class CompareReportTest {
    @TempDir
    Path tmp;

    /** Baseline: evals every 10 steps at 1e9 FLOPs and 1 s per 10 steps; val 3.0, 2.5, 2.2, then {@code last}. */
    static SyntheticRun baseline(double v2, double v3, double last) {
        return SyntheticRun.of("baseline").eval(10, 1e9, 1, 3.0).eval(20, 2e9, 2, v2).eval(30, 3e9, 3, v3).eval(40, 4e9, 4, last);
    }

    /** A method at half the FLOPs and 0.8x the seconds per step, with stages 1 -> 2 at step 15 and 2 -> 3 at step 30. */
    static SyntheticRun method(double v1, double v2, double v3, double v4) {
        return SyntheticRun.of("est")
                .step(5, 0.25e9, 0.4, "1").eval(10, 0.5e9, 0.8, v1, "1")
                .step(15, 0.75e9, 1.2, "2").eval(20, 1.0e9, 1.6, v2, "2")
                .eval(30, 1.5e9, 2.4, v3, "3").eval(40, 2.0e9, 3.2, v4, "3");
    }

    private RunResult read(String name, Long seed, SyntheticRun r, String folder) throws IOException {
        return RunResult.read(name, seed, r.write(tmp.resolve(folder)));
    }

    @Test
    void flopsToReachIsInterpolatedBetweenTheEvalsAroundTheTarget() throws IOException {
        RunResult b = read("baseline", null, baseline(2.5, 2.2, 2.0).headFlops(1e9), "baseline");
        RunResult m = read("est", null, method(2.9, 2.4, 2.1, 1.9).headFlops(1e9), "est");
        CompareReport.Versus v = CompareReport.versus(m, b);
        assertEquals(1.0 / 3.0, v.blockFlopsRatio(), 1e-12, "blocks: (2e9 - 1e9 head) / (4e9 - 1e9 head)");
        assertEquals(2.0, v.target());
        // 2.1 at 1.5e9 FLOPs / 2.4 s, then 1.9 at 2.0e9 / 3.2 s: 2.0 lies half way
        assertNotNull(v.reach());
        assertEquals(1.75e9, v.reach().flops(), 1);
        assertEquals(2.8, v.reach().wallS(), 1e-12);
        assertEquals(40, v.reach().step());
        assertEquals(0.4375, v.reachFlopsRatio(), 1e-12);
        assertEquals(0.7, v.reachWallRatio(), 1e-12);
        assertEquals(0.5, v.flopsRatio(), 1e-12);
        assertEquals(0.8, v.wallRatio(), 1e-12);
        assertEquals(2.5, v.baselineValAtEqualFlops(), 1e-12, "the baseline's val loss at 2e9 FLOPs");

        CompareReport.Versus self = CompareReport.versus(b, b);
        assertEquals(1.0, self.reachFlopsRatio(), 1e-12, "the baseline reaches its own final loss at its last eval");
        assertEquals(2.0, self.baselineValAtEqualFlops(), 1e-12);

        CompareReport report = new CompareReport(List.of("baseline", "est"), List.of(), table(new RunResult[] {b}, new RunResult[] {m}));
        String md = report.markdown(new CompareReport.Context("/data/x", "sprout compare --config baseline.yaml --config est.yaml --out o", false, true));
        // Loss, Cost and Reaching the baseline
        assertTrue(md.contains("| baseline | baseline | 2.0000 | 2.0000 | +0.0000 |"), md);
        assertTrue(md.contains("| est | est | 1.9000 | 2.5000 | -0.6000 |"), md);
        assertTrue(md.contains("| baseline | 40 | 10.24 | 1.000 | 1.000 | 1.000 |"), md);
        assertTrue(md.contains("| est | 40 | 10.24 | 0.500 | 0.333 | 0.800 |"), md);
        assertTrue(md.contains("| baseline | 1.000 | 1.000 |"), md);
        assertTrue(md.contains("| est | 0.438 | 0.700 |"), md);
        assertTrue(md.contains("`/data/x`"), md);
        assertTrue(md.contains("sprout compare --config baseline.yaml --config est.yaml --out o"), md);
        assertTrue(md.contains("1 → 2 @ 15, 2 → 3 @ 30"), md);
        assertTrue(md.contains("by step 40: 0.438 FLOPs, 0.700 wall"), md);
        assertTrue(md.contains("How to read this"), md);
        assertTrue(md.contains("![val loss vs FLOPs](val_loss_vs_flops.png)"), md);
    }

    @Test
    void reachEdgeCases() {
        RunCurve c = new RunCurve(List.of(new RunCurve.Point(10, 100, 1, 2.0), new RunCurve.Point(20, 200, 2, 1.5)), List.of());
        RunCurve.Reach first = c.reach(2.5);
        assertEquals(100, first.flops(), "already below at the first eval: that eval, no extrapolation");
        assertEquals(10, first.step());
        assertEquals(200, c.reach(1.5).flops(), "exactly at the target counts");
        assertNull(c.reach(1.4));
        assertEquals(1.75, c.valLossAtFlops(150), 1e-12);
        assertTrue(Double.isNaN(c.valLossAtFlops(50)), "before the first eval");
        assertTrue(Double.isNaN(c.valLossAtFlops(201)), "after the last eval");
        assertEquals(1.5, c.valLossAtFlops(200 * (1 + 1e-12)), 1e-12, "the end within rounding");
        // a noisy curve: the first crossing counts, not a later one
        RunCurve noisy = new RunCurve(List.of(new RunCurve.Point(1, 10, 1, 3), new RunCurve.Point(2, 20, 2, 1),
                new RunCurve.Point(3, 30, 3, 2.5), new RunCurve.Point(4, 40, 4, 0.5)), List.of());
        assertEquals(15, noisy.reach(2).flops(), 1e-12);
    }

    @Test
    void notReachedGivesTheBestLossAndWhere() throws IOException {
        RunResult b = read("baseline", null, baseline(2.5, 2.2, 2.0), "baseline");
        RunResult n = read("slow", null, SyntheticRun.of("pld").eval(10, 1e9, 1, 3.1).eval(20, 2e9, 2, 2.05).eval(30, 3e9, 3, 2.3).eval(40, 5e9, 4, 2.1), "slow");
        CompareReport.Versus v = CompareReport.versus(n, b);
        assertFalse(v.reached());
        assertEquals(20, v.best().step());
        assertEquals(0.5, v.bestFlopsRatio(), 1e-12);
        assertTrue(Double.isNaN(v.baselineValAtEqualFlops()), "5e9 FLOPs lies past the baseline's curve");
        CompareReport report = new CompareReport(List.of("baseline", "slow"), List.of(), table(new RunResult[] {b}, new RunResult[] {n}));
        String md = report.markdown(new CompareReport.Context("d", "c", false, false));
        // past the baseline's FLOPs, so compared at the baseline's total: 2.2 (half way from 2.3 at 3e9 to 2.1 at 5e9) - 2.0
        assertTrue(md.contains("| slow | pld | 2.1000 | n/a | +0.2000 |"), md);
        assertTrue(md.contains("| slow | 40 | 10.24 | 1.250 | 1.250 | 1.000 |"), md);
        assertTrue(md.contains("| slow | not reached (best 2.0500 at 0.500) | not reached (best at 0.500) |"), md);
        assertTrue(md.contains("not reached (best 2.0500 at step 20)"), md);
        assertFalse(md.contains("## Plots"), "no plots section when the plots were not drawn");
    }

    @Test
    void seedsArePairedWithTheSameSeedsBaselineThenAggregated() throws IOException {
        RunResult b1 = read("baseline", 1L, baseline(2.5, 2.2, 2.0).seed(1), "baseline-seed1");
        RunResult m1 = read("est", 1L, method(2.9, 2.4, 2.1, 1.9).seed(1), "est-seed1");
        RunResult b2 = read("baseline", 2L, baseline(2.6, 2.4, 2.2).seed(2), "baseline-seed2");
        RunResult m2 = read("est", 2L, method(2.9, 2.5, 2.2, 2.0).seed(2), "est-seed2");
        CompareReport report = new CompareReport(List.of("baseline", "est"), List.of(1L, 2L), table(new RunResult[] {b1, b2}, new RunResult[] {m1, m2}));
        CompareReport.Row est = report.rows().get(1);
        assertEquals(2, est.paired());
        assertEquals(2, est.reached());
        // seed 1: target 2.0 reached at 1.75e9 of 4e9; seed 2: target 2.2 reached exactly at step 30, 1.5e9 of 4e9
        assertEquals(0.4375, est.versus().get(0).reachFlopsRatio(), 1e-12);
        assertEquals(0.375, est.versus().get(1).reachFlopsRatio(), 1e-12);
        assertEquals(0.40625, est.reachFlopsRatio().mean(), 1e-12);
        assertEquals(0.0625 / Math.sqrt(2), est.reachFlopsRatio().std(), 1e-12, "sample standard deviation");
        assertEquals(1.95, est.finalValLoss().mean(), 1e-12);
        assertEquals(2.55, est.baselineValAtEqualFlops().mean(), 1e-12, "2.5 (seed 1) and 2.6 (seed 2) at 2e9 FLOPs");
        assertEquals(2.1, report.baselineTarget().mean(), 1e-12);
        String md = report.markdown(new CompareReport.Context("d", "c", false, true));
        assertTrue(md.contains("| est | est | 1.9500 ± 0.0707 | 2.5500 ± 0.0707 | -0.6000 ± 0.0000 |"), md);
        assertTrue(md.contains("| est | 40 | 10.24 ± 0.00 | 0.500 ± 0.000 | 0.500 ± 0.000 | 0.800 ± 0.000 |"), md);
        assertTrue(md.contains("| est | 0.406 ± 0.044 | 0.650 ± 0.071 |"), md);
        assertTrue(md.contains("- Seeds: 1, 2 ("), md);
        assertTrue(md.contains("mean over its seeds"), md);

        // the mean curve the plots draw
        RunCurve mean = report.plotCurves().get(1);
        assertEquals(4, mean.evals().size());
        assertEquals(1.95, mean.evals().get(3).valLoss(), 1e-12);
        assertEquals(2, mean.boundaries().size());

        // a seed that does not reach the target, and a missing run
        RunResult m2slow = read("est", 2L, method(2.9, 2.6, 2.5, 2.3).seed(2), "est-seed2-slow");
        CompareReport partial = new CompareReport(List.of("baseline", "est", "raptr"), List.of(1L, 2L),
                table(new RunResult[] {b1, b2}, new RunResult[] {m1, m2slow}, new RunResult[] {null, null}));
        String md2 = partial.markdown(new CompareReport.Context("d", "c", false, true));
        assertTrue(md2.contains("| 0.438 (1/2 seeds reached) | 0.700 (1/2 seeds reached) |"), md2);
        assertTrue(md2.contains("| raptr (0/2 runs) |"), md2);
        assertTrue(md2.contains("| raptr (seed 1) | 1 | missing | | | |"), md2);
        assertTrue(md2.contains("2 run(s) missing"), md2);
    }

    @Test
    void stageBoundariesAreWhereTheLabelChanges() throws IOException {
        Path dir = SyntheticRun.of("raptr").step(1, 1, 1, "a").step(2, 2, 2, "a").step(3, 3, 3, "b").eval(4, 4, 4, 2.0, "b")
                .step(5, 5, 5, "c").eval(6, 6, 6, 1.9, "c").write(tmp.resolve("r"));
        RunCurve c = RunResult.read("r", null, dir).curve();
        assertEquals(2, c.boundaries().size());
        assertEquals(new RunCurve.Boundary(3, 3, 3, "a", "b"), c.boundaries().get(0));
        assertEquals(new RunCurve.Boundary(5, 5, 5, "b", "c"), c.boundaries().get(1));
        assertEquals(List.of(4L, 6L), c.evals().stream().map(RunCurve.Point::step).toList());

        RunCurve none = RunResult.read("b", null, baseline(2.5, 2.2, 2.0).write(tmp.resolve("b"))).curve();
        assertTrue(none.boundaries().isEmpty(), "a run without stage labels has no boundaries");
    }

    @Test
    void aRunWithoutSummaryReadsFromItsMetrics() throws IOException {
        Path dir = baseline(2.5, 2.2, 2.0).maxSteps(100).noSummary().write(tmp.resolve("killed"));
        Files.writeString(dir.resolve("metrics.jsonl"), Files.readString(dir.resolve("metrics.jsonl")) + "{\"step\": 41, \"flo");
        RunResult r = RunResult.read("killed", null, dir);
        assertFalse(r.complete());
        assertEquals(40, r.steps());
        assertEquals(4e9, r.flops());
        assertEquals(2.0, r.finalValLoss());
        assertEquals(100, r.maxSteps());
        assertEquals("baseline", r.method());
    }

    @Test
    void memoryTableComparesTheBlocksOptimizerStateWithTheFirstConfig() throws IOException {
        RunResult full = read("full", null, baseline(2.5, 2.2, 2.0).optimizerStateBytesBlocks(8_000_000), "full");
        RunResult lowRank = read("switchlora", null, method(2.9, 2.4, 2.1, 1.9).method("switchlora").optimizerStateBytesBlocks(3_000_000), "switchlora");
        RunResult old = read("old", null, method(2.9, 2.4, 2.1, 1.9), "old"); // a summary without the memory keys
        CompareReport report = new CompareReport(List.of("full", "switchlora", "old"), List.of(),
                table(new RunResult[] {full}, new RunResult[] {lowRank}, new RunResult[] {old}));
        String md = report.markdown(new CompareReport.Context("d", "c", false, false));
        assertTrue(md.contains("| full | 1,000 | 1,000,000 | 4.000 |"), md);
        assertTrue(md.contains("| full | 16.000 | 8.000 | 1.000 | 300 |"), md);
        assertTrue(md.contains("| switchlora | 1,000 | 375,000 | 1.500 |"), md);
        assertTrue(md.contains("| switchlora | 6.000 | 3.000 | 0.375 | 300 |"), md);
        assertTrue(md.contains("| old | n/a | | |"), md);
        String none = new CompareReport(List.of("old"), List.of(), table(new RunResult[] {old})).markdown(new CompareReport.Context("d", "c", false, false));
        assertFalse(none.contains("## Memory"), "no memory section for runs that predate the keys");
    }

    @Test
    void plotsArePngFiles() throws IOException {
        RunResult b1 = read("baseline", 1L, baseline(2.5, 2.2, 2.0), "baseline-seed1");
        RunResult m1 = read("est", 1L, method(2.9, 2.4, 2.1, 1.9), "est-seed1");
        RunResult b2 = read("baseline", 2L, baseline(2.6, 2.4, 2.2), "baseline-seed2");
        RunResult m2 = read("est", 2L, method(2.9, 2.5, 2.2, 2.0), "est-seed2");
        CompareReport report = new CompareReport(List.of("baseline", "est"), List.of(1L, 2L), table(new RunResult[] {b1, b2}, new RunResult[] {m1, m2}));
        Path out = tmp.resolve("plots");
        ComparePlots.write(report, out);
        for (String f : CompareReport.PLOTS) assertPng(out.resolve(f));
    }

    static void assertPng(Path f) throws IOException {
        assertTrue(Files.isRegularFile(f), f + " written");
        byte[] bytes = Files.readAllBytes(f);
        byte[] magic = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
        assertTrue(Arrays.equals(magic, Arrays.copyOf(bytes, 8)), f + " starts with the PNG signature");
        assertTrue(bytes.length > 10_000, f + " is a real picture, " + bytes.length + " bytes");
        BufferedImage img = ImageIO.read(f.toFile());
        assertEquals(ComparePlots.WIDTH, img.getWidth());
        assertEquals(ComparePlots.HEIGHT, img.getHeight());
    }
}
