package dev.sprout.report;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One config's validation curve over its seeds, as the plots draw it: at each step that every seed evaluated, the mean
 * FLOPs, seconds and val loss, and the sample standard deviation of the val loss between seeds (NaN with one seed, so
 * a single run is drawn as a bare line).
 */
public record SeedBand(List<Point> points, int seeds) {
    /** One evaluation step: x coordinates and val loss averaged over the seeds, with the val loss's spread. */
    public record Point(long step, double flops, double wallS, double mean, double std) {
        /** The band's lower edge: mean - std, or the mean itself when there is no spread to show. */
        public double low() {
            return Double.isFinite(std) ? mean - std : mean;
        }

        /** The band's upper edge: mean + std, or the mean itself when there is no spread to show. */
        public double high() {
            return Double.isFinite(std) ? mean + std : mean;
        }
    }

    public SeedBand {
        points = List.copyOf(points);
    }

    /** The band of {@code curves}, one per seed; steps missing from any seed are left out, as {@link RunCurve#mean} does. */
    public static SeedBand of(List<RunCurve> curves) {
        Map<Long, List<RunCurve.Point>> byStep = new LinkedHashMap<>();
        for (RunCurve c : curves) for (RunCurve.Point p : c.evals()) byStep.computeIfAbsent(p.step(), k -> new ArrayList<>()).add(p);
        List<Point> points = new ArrayList<>();
        byStep.forEach((step, ps) -> {
            if (ps.size() != curves.size()) return;
            Stat val = Stat.of(ps.stream().map(RunCurve.Point::valLoss).toList());
            double flops = ps.stream().mapToDouble(RunCurve.Point::flops).average().orElse(Double.NaN);
            double wall = ps.stream().mapToDouble(RunCurve.Point::wallS).average().orElse(Double.NaN);
            points.add(new Point(step, flops, wall, val.mean(), val.std()));
        });
        points.sort(Comparator.comparingLong(Point::step));
        return new SeedBand(points, curves.size());
    }
}
