package dev.sprout.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A run's validation curve (the metrics rows that carry {@code val_loss}, in step order) and its stage boundaries
 * (the first row whose {@code stage} differs from the previous row's), with the interpolations the compare report
 * needs. Plain data, no I/O.
 */
public record RunCurve(List<Point> evals, List<Boundary> boundaries) {
    /** One evaluation: the full model's val loss after {@code step}, at cumulative training FLOPs and seconds. */
    public record Point(long step, double flops, double wallS, double valLoss) {}

    /** The step at which the method's stage label changed to {@code stage} (from {@code from}, null when unlabelled). */
    public record Boundary(long step, double flops, double wallS, String from, String stage) {}

    /** Where a curve first reaches a target loss, interpolated linearly between two evaluations. */
    public record Reach(double flops, double wallS, long step) {}

    public RunCurve {
        evals = List.copyOf(evals);
        boundaries = List.copyOf(boundaries);
    }

    /** Builds the curve from metrics.jsonl rows (any order; sorted by step, a repeated step keeps its last row). */
    public static RunCurve fromRows(List<JsonNode> rows) {
        Map<Long, JsonNode> byStep = new LinkedHashMap<>();
        for (JsonNode r : rows) if (r.has("step")) byStep.put(r.get("step").asLong(), r);
        List<JsonNode> sorted = new ArrayList<>(byStep.values());
        sorted.sort(Comparator.comparingLong(r -> r.get("step").asLong()));
        List<Point> evals = new ArrayList<>();
        List<Boundary> boundaries = new ArrayList<>();
        String prevStage = null;
        boolean first = true;
        for (JsonNode r : sorted) {
            long step = r.get("step").asLong();
            double flops = r.path("flops").asDouble(Double.NaN), wall = r.path("wall_s").asDouble(Double.NaN);
            JsonNode v = r.get("val_loss");
            if (v != null && v.isNumber()) evals.add(new Point(step, flops, wall, v.asDouble()));
            JsonNode s = r.get("stage");
            String stage = s == null || s.isNull() ? null : s.asText();
            if (!first && !Objects.equals(stage, prevStage)) boundaries.add(new Boundary(step, flops, wall, prevStage, stage));
            prevStage = stage;
            first = false;
        }
        return new RunCurve(evals, boundaries);
    }

    /**
     * The first evaluation at which val loss is at or below {@code target}, or null if none is. Between the evaluation
     * just before it (still above the target) and it, FLOPs and seconds are interpolated linearly in val loss; when the
     * very first evaluation is already at or below the target, its own FLOPs and seconds are returned.
     */
    public Reach reach(double target) {
        for (int i = 0; i < evals.size(); i++) {
            Point p = evals.get(i);
            if (!(p.valLoss() <= target)) continue;
            if (i == 0) return new Reach(p.flops(), p.wallS(), p.step());
            Point q = evals.get(i - 1);
            double frac = q.valLoss() == p.valLoss() ? 1 : (q.valLoss() - target) / (q.valLoss() - p.valLoss());
            return new Reach(q.flops() + frac * (p.flops() - q.flops()), q.wallS() + frac * (p.wallS() - q.wallS()), p.step());
        }
        return null;
    }

    /**
     * Val loss interpolated linearly in FLOPs at {@code flops}; NaN when {@code flops} lies before the first or after the
     * last evaluation (a relative tolerance of 1e-9 counts the ends as inside).
     */
    public double valLossAtFlops(double flops) {
        if (evals.isEmpty()) return Double.NaN;
        Point first = evals.get(0), last = evals.get(evals.size() - 1);
        double tol = 1e-9 * Math.max(Math.abs(last.flops()), 1);
        if (flops < first.flops() - tol || flops > last.flops() + tol) return Double.NaN;
        if (flops <= first.flops()) return first.valLoss();
        if (flops >= last.flops()) return last.valLoss();
        for (int i = 1; i < evals.size(); i++) {
            Point q = evals.get(i - 1), p = evals.get(i);
            if (flops <= p.flops()) {
                if (p.flops() == q.flops()) return p.valLoss();
                double frac = (flops - q.flops()) / (p.flops() - q.flops());
                return q.valLoss() + frac * (p.valLoss() - q.valLoss());
            }
        }
        return last.valLoss();
    }

    /** The evaluation with the lowest val loss (the earliest on ties), or null for an empty curve. */
    public Point best() {
        Point b = null;
        for (Point p : evals) if (b == null || p.valLoss() < b.valLoss()) b = p;
        return b;
    }

    /** The last evaluation, or null. */
    public Point last() {
        return evals.isEmpty() ? null : evals.get(evals.size() - 1);
    }

    /**
     * The mean curve of several runs of one config (e.g. over seeds): at each step that every run evaluated, the mean
     * FLOPs, seconds and val loss; each boundary (step and stage) that any run has, at the mean FLOPs and seconds of the
     * runs that have it.
     */
    public static RunCurve mean(List<RunCurve> curves) {
        if (curves.isEmpty()) return new RunCurve(List.of(), List.of());
        if (curves.size() == 1) return curves.get(0);
        Map<Long, double[]> evalSums = new LinkedHashMap<>(); // step -> flops, wall, val, count
        for (RunCurve c : curves) {
            for (Point p : c.evals()) {
                double[] s = evalSums.computeIfAbsent(p.step(), k -> new double[4]);
                s[0] += p.flops();
                s[1] += p.wallS();
                s[2] += p.valLoss();
                s[3]++;
            }
        }
        List<Point> evals = new ArrayList<>();
        evalSums.forEach((step, s) -> {
            if (s[3] == curves.size()) evals.add(new Point(step, s[0] / s[3], s[1] / s[3], s[2] / s[3]));
        });
        evals.sort(Comparator.comparingLong(Point::step));
        Map<List<Object>, double[]> bSums = new LinkedHashMap<>();
        Map<List<Object>, Boundary> bFirst = new LinkedHashMap<>();
        for (RunCurve c : curves) {
            for (Boundary b : c.boundaries()) {
                List<Object> key = java.util.Arrays.asList(b.step(), b.from(), b.stage());
                double[] s = bSums.computeIfAbsent(key, k -> new double[3]);
                s[0] += b.flops();
                s[1] += b.wallS();
                s[2]++;
                bFirst.putIfAbsent(key, b);
            }
        }
        List<Boundary> boundaries = new ArrayList<>();
        bSums.forEach((key, s) -> {
            Boundary b = bFirst.get(key);
            boundaries.add(new Boundary(b.step(), s[0] / s[2], s[1] / s[2], b.from(), b.stage()));
        });
        boundaries.sort(Comparator.comparingLong(Boundary::step));
        return new RunCurve(evals, boundaries);
    }
}
