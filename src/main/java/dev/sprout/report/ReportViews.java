package dev.sprout.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Which of the report's method-specific views apply to a comparison, decided from the runs' methods and FLOPs, so that a
 * subnetwork comparison is not padded with growth columns or a memory table that only say "n/a" or "1.000".
 *
 * @param equalCompute per config, whether its row belongs in the equal-compute view (never the baseline's: it is the
 *                     reference the view measures against)
 * @param memory       whether the memory table applies
 */
record ReportViews(List<Boolean> equalCompute, boolean memory) {
    /** Methods that grow the model during the run and may spend more than the baseline to catch up with it. */
    static final Set<String> GROWTH = Set.of("incremental", "stacking");
    /** Methods whose point is the training state's memory: the memory table measures what they save. */
    static final Set<String> LOW_RANK = Set.of("lora", "switchlora", "relora", "galore");
    /**
     * A run that spends more than this multiple of its baseline's FLOPs gets the equal-compute view whatever its method.
     * Not 1: the low-rank adapters' thin matmuls cost a few percent more than the dense step (about 1.04x), an overhead
     * the Loss table already compares at equal FLOPs, not a budget extended to catch up with the baseline.
     */
    static final double PAST_BASELINE_FLOPS = 1.1;

    ReportViews {
        equalCompute = List.copyOf(equalCompute);
    }

    static ReportViews of(CompareReport report, List<CompareReport.Row> rows) {
        List<Boolean> equalCompute = new ArrayList<>();
        boolean memory = false;
        for (int c = 0; c < report.configs().size(); c++) {
            List<RunResult> runs = report.runs(c).stream().filter(Objects::nonNull).toList();
            boolean growth = runs.stream().anyMatch(r -> GROWTH.contains(r.method()));
            boolean pastBaseline = rows.get(c).versus().stream().anyMatch(v -> v.flopsRatio() > PAST_BASELINE_FLOPS);
            equalCompute.add(c > 0 && (growth || pastBaseline));
            memory |= runs.stream().anyMatch(r -> LOW_RANK.contains(r.method()));
        }
        return new ReportViews(equalCompute, memory);
    }

    boolean anyEqualCompute() {
        return equalCompute.contains(true);
    }
}
