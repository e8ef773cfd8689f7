package dev.sprout.report;

import static dev.sprout.report.CompareEqualComputeTest.section;
import static dev.sprout.report.CompareReportTest.baseline;
import static dev.sprout.report.CompareReportTest.method;
import static dev.sprout.report.SyntheticRun.table;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How report.md reads: the verdict lines it opens with, its tables of a few columns each, and the method-specific views
 * left out where they do not apply. Hand-written runs against {@link CompareReportTest#baseline} (final val loss at 4e9 FLOPs).
 */
class CompareReportLayoutTest {
    @TempDir
    Path tmp;

    private static final CompareReport.Context CTX = new CompareReport.Context("d", "c", false, false);

    private RunResult read(String name, Long seed, SyntheticRun r) throws IOException {
        return RunResult.read(name, seed, r.write(tmp.resolve(name + (seed == null ? "" : "-seed" + seed))));
    }

    /** A subnetwork method at half the baseline's FLOPs that stays behind: 2.6 at 2e9, where the baseline is at 2.5 (seed 1). */
    static SyntheticRun slowRaptr() {
        return method(3.0, 2.8, 2.7, 2.6).method("raptr");
    }

    @Test
    void oneSeedVerdictLinesOpenTheReport() throws IOException {
        RunResult b = read("baseline", null, baseline(2.5, 2.2, 2.0));
        RunResult est = read("est", null, method(2.9, 2.4, 2.1, 1.9));
        RunResult raptr = read("raptr", null, slowRaptr());
        CompareReport report = new CompareReport(List.of("baseline", "est", "raptr"), List.of(), table(new RunResult[] {b}, new RunResult[] {est},
                new RunResult[] {raptr}));
        String md = report.markdown(CTX);
        // right after the title and the data, seeds and baseline lines: the first section
        assertTrue(md.indexOf("\n## ") == md.indexOf("\n## Verdicts\n"), md);
        String verdicts = section(md, "## Verdicts");
        // reached: 1.9 at its end, where the baseline is at 2.5; the target 2.0 half way between 2.1 at 1.5e9 and 1.9 at 2e9
        assertTrue(verdicts.contains("- **est**: 0.50x FLOPs, -0.6000 val loss at equal FLOPs (ahead), reaches the baseline's final val loss at "
                + "0.44x its FLOPs\n"), verdicts);
        // not reached: a subnetwork run's curve ends with its run, before the baseline's FLOPs
        assertTrue(verdicts.contains("- **raptr**: 0.50x FLOPs, +0.1000 val loss at equal FLOPs (behind), does not reach the baseline's final "
                + "val loss (its curve ends at 0.50x its FLOPs)\n"), verdicts);
        assertFalse(verdicts.contains("**baseline**"), "no line for the baseline against itself: " + verdicts);
        // the same numbers in the tables below
        assertTrue(md.contains("| est | est | 1.9000 | 2.5000 | -0.6000 |"), md);
        assertTrue(md.contains("| raptr | raptr | 2.6000 | 2.5000 | +0.1000 |"), md);
        assertTrue(md.contains("| est | 0.438 | 0.700 |"), md);
    }

    @Test
    void severalSeedsCountTheSeedsBehindAndReaching() throws IOException {
        double[][] baselines = {{2.5, 2.2, 2.0}, {2.6, 2.4, 2.2}, {2.5, 2.3, 2.1}};
        // est reaches seed 1's 2.0 (at 0.4375) and seed 2's 2.2 (at 0.375), not seed 3's 2.1 (it ends at 2.2)
        double[][] ests = {{2.9, 2.4, 2.1, 1.9}, {2.9, 2.5, 2.2, 2.0}, {2.9, 2.5, 2.3, 2.2}};
        List<RunResult> b = new ArrayList<>(), est = new ArrayList<>(), raptr = new ArrayList<>(), fast = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            long seed = k + 1;
            b.add(read("baseline", seed, baseline(baselines[k][0], baselines[k][1], baselines[k][2]).seed(seed)));
            est.add(read("est", seed, method(ests[k][0], ests[k][1], ests[k][2], ests[k][3]).seed(seed)));
            raptr.add(read("raptr", seed, slowRaptr().seed(seed)));
            fast.add(read("fast", seed, method(2.5, 2.0, 1.8, 1.7).method("pld").seed(seed)));
        }
        CompareReport report = new CompareReport(List.of("baseline", "est", "raptr", "fast"), List.of(1L, 2L, 3L),
                List.of(b, est, raptr, fast));
        String verdicts = section(report.markdown(CTX), "## Verdicts");
        // at 2e9 the baselines are at 2.5, 2.6, 2.5: est is 0.6, 0.6 and 0.3 ahead
        assertTrue(verdicts.contains("- **est**: 0.50x FLOPs, -0.5000 ± 0.1732 val loss at equal FLOPs (ahead in 3 of 3 seeds), reaches the "
                + "baseline's final val loss in 2 of 3 seeds (at 0.41x ± 0.04 its FLOPs)\n"), verdicts);
        // raptr at 2.6: 0.1 behind, level, 0.1 behind: counted each way, the mean alone would hide the level seed
        assertTrue(verdicts.contains("- **raptr**: 0.50x FLOPs, +0.0667 ± 0.0577 val loss at equal FLOPs (behind in 2, level in 1 of 3 seeds), "
                + "does not reach the baseline's final val loss (its curves end at 0.50x ± 0.00 its FLOPs)\n"), verdicts);
        String fastLine = verdicts.lines().filter(l -> l.startsWith("- **fast**")).findFirst().orElseThrow();
        assertTrue(fastLine.contains("(ahead in 3 of 3 seeds), reaches the baseline's final val loss at 0.2") && fastLine.endsWith("its FLOPs (3 of 3 seeds)"),
                fastLine);
        Stat reach = CompareReport.equalCompute(report.rows().get(3)).reachFlopsRatioWithinHorizon();
        assertEquals(0.225, reach.mean(), 1e-12, "2.0 reached at 1e9, 2.2 at 0.8e9 and 2.1 at 0.9e9, of 4e9");
    }

    @Test
    void resultsAreSmallTables() throws IOException {
        RunResult b = read("baseline", null, baseline(2.5, 2.2, 2.0));
        RunResult est = read("est", null, method(2.9, 2.4, 2.1, 1.9));
        RunResult stack = read("stack", null, CompareEqualComputeTest.stacking().flopsPaperModel(2.4e9));
        RunResult lora = read("lora", null, baseline(2.5, 2.2, 2.05).method("lora").optimizerStateBytesBlocks(1_000_000));
        CompareReport report = new CompareReport(List.of("baseline", "est", "stack", "lora"), List.of(), table(new RunResult[] {b},
                new RunResult[] {est}, new RunResult[] {stack}, new RunResult[] {lora}));
        String md = report.markdown(new CompareReport.Context("d", "c", false, true));
        String results = section(md, "## Results");
        int loss = results.indexOf("### Loss\n"), cost = results.indexOf("### Cost\n"), reach = results.indexOf("### Reaching the baseline\n");
        assertTrue(0 < loss && loss < cost && cost < reach, results);
        assertTrue(results.contains("| config | method | final val loss | baseline's val loss at this run's total FLOPs | val loss minus baseline's at "
                + "equal FLOPs |"), results);
        assertTrue(results.contains("| config | steps | tokens/param | FLOPs vs baseline | block FLOPs vs baseline | wall-clock vs baseline |"), results);
        // every table of the report, all views present here, keeps to a handful of columns
        int tables = 0;
        for (String line : md.split("\n")) {
            if (!line.startsWith("|---")) continue;
            tables++;
            int columns = line.length() - line.replace("|", "").length() - 1;
            assertTrue(columns <= 6, columns + " columns: " + line);
        }
        assertEquals(8, tables, "Loss, Cost, Reaching, the equal-compute view, two memory tables, two run tables: " + md);
        assertTrue(md.indexOf("## Results") < md.indexOf("## Plots") && md.indexOf("## Plots") < md.indexOf("## Equal-compute view"), md);
        assertTrue(md.contains("![val loss vs FLOPs, from half the baseline's FLOPs on](val_loss_vs_flops_zoom.png)"), md);
        assertFalse(md.contains("± one sample standard deviation"), "one seed: no bands to explain");
    }

    @Test
    void aSubnetComparisonLeavesOutTheGrowthAndMemoryViews() throws IOException {
        // summary.json has the memory keys (every run writes them now): left out all the same, no method here is low-rank
        RunResult b = read("baseline", null, baseline(2.5, 2.2, 2.0).optimizerStateBytesBlocks(8_000_000));
        RunResult est = read("est", null, method(2.9, 2.4, 2.1, 1.9).optimizerStateBytesBlocks(8_000_000));
        RunResult raptr = read("raptr", null, slowRaptr().optimizerStateBytesBlocks(8_000_000));
        String md = new CompareReport(List.of("baseline", "est", "raptr"), List.of(), table(new RunResult[] {b}, new RunResult[] {est},
                new RunResult[] {raptr})).markdown(CTX);
        assertFalse(md.contains("## Equal-compute view"), md);
        assertFalse(md.contains("paper's model"), md);
        assertFalse(md.contains("## Memory"), md);
        assertTrue(md.contains("Left out here: the equal-compute view (no config grows the model or spends more than 1.1x the baseline's FLOPs); "
                + "the memory table (no low-rank method)."), md);
        assertFalse(md.contains("within 2x"), "no horizon without the view: " + md);
    }

    @Test
    void aGrowthComparisonHasTheEqualComputeViewForItsGrowthRuns() throws IOException {
        RunResult b = read("baseline", null, baseline(2.5, 2.2, 2.0).flopsPaperModel(2e9));
        RunResult stack = read("stack", null, CompareEqualComputeTest.stacking().flopsPaperModel(2.4e9));
        RunResult inc = read("inc", null, CompareEqualComputeTest.late());
        RunResult raptr = read("raptr", null, slowRaptr());
        String md = new CompareReport(List.of("baseline", "stack", "inc", "raptr"), List.of(), table(new RunResult[] {b}, new RunResult[] {stack},
                new RunResult[] {inc}, new RunResult[] {raptr})).markdown(CTX);
        String view = section(md, "## Equal-compute view");
        assertTrue(view.contains("| config | FLOPs vs baseline | cost vs baseline, paper's model |"), view);
        assertTrue(view.contains("| stack | 1.500 | 1.200 |") && view.contains("| inc | 2.500 | n/a |"), view);
        assertFalse(view.contains("| raptr |"), "a subnetwork run at half the FLOPs is not held to the baseline's budget: " + view);
        assertTrue(md.contains("Left out here: the memory table (no low-rank method)."), md);
        assertTrue(section(md, "## Verdicts").contains("- **inc**: 2.50x FLOPs, +0.4000 val loss at equal FLOPs (behind), does not reach the "
                + "baseline's final val loss within 2x its FLOPs; **the incremental-training paper's"), md);
    }

    @Test
    void aLowRankComparisonHasTheMemoryTableAndNoGrowthView() throws IOException {
        RunResult full = read("full", null, baseline(2.5, 2.2, 2.0).optimizerStateBytesBlocks(8_000_000));
        // the adapters' matmuls: 1.04x the dense step's FLOPs, an overhead and not an extended budget
        RunResult lora = read("lora", null, SyntheticRun.of("lora").eval(10, 1.04e9, 1, 3.0).eval(20, 2.08e9, 2, 2.6).eval(30, 3.12e9, 3, 2.3)
                .eval(40, 4.16e9, 4, 2.1).optimizerStateBytesBlocks(3_000_000));
        String md = new CompareReport(List.of("full", "lora"), List.of(), table(new RunResult[] {full}, new RunResult[] {lora})).markdown(CTX);
        assertTrue(md.contains("## Memory") && md.contains("| lora | 6.000 | 3.000 | 0.375 | 300 |"), md);
        assertFalse(md.contains("## Equal-compute view"), md);
        // at the baseline's total FLOPs (4e9), 2.3 + (0.88 / 1.04) * (2.1 - 2.3) = 2.1308 against its final 2.0
        assertTrue(section(md, "## Verdicts").contains("- **lora**: 1.04x FLOPs, +0.1308 val loss at equal FLOPs (behind), does not reach the "
                + "baseline's final val loss (its curve ends at 1.04x its FLOPs)\n"), md);
        // a subnetwork method that ran past the baseline's FLOPs gets the view whatever its method
        RunResult pld = read("pld", null, SyntheticRun.of("pld").eval(10, 1e9, 1, 3.1).eval(20, 3e9, 2, 2.3).eval(30, 5e9, 3, 2.1));
        String past = new CompareReport(List.of("full", "pld"), List.of(), table(new RunResult[] {full}, new RunResult[] {pld})).markdown(CTX);
        assertTrue(section(past, "## Equal-compute view").contains("| pld | 1.250 |"), past);
    }
}
