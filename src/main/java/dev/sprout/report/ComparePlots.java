package dev.sprout.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Paint;
import java.awt.font.FontRenderContext;
import java.awt.geom.Rectangle2D;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;
import org.jfree.chart.ChartRenderingInfo;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.DeviationRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.Range;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

/**
 * The PNG plots of `sprout compare`: val loss against cumulative FLOPs, the same zoomed on the last half of the
 * baseline's run, and val loss against training wall-clock. With several seeds each config is its mean curve with a
 * shaded band of ± one standard deviation over the seeds.
 */
public final class ComparePlots {
    public static final int WIDTH = 1000, HEIGHT = 600;
    /** Colours of the non-baseline configs, in order (the baseline is black). */
    static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
            new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf), new Color(0xbcbd22), new Color(0x7f7f7f)};
    /** How opaque the seed bands are: light enough that overlapping bands and the lines over them stay readable. */
    static final float BAND_ALPHA = 0.18f;

    private static final Color CLEAR = new Color(255, 255, 255, 0);

    private ComparePlots() {}

    /** What one chart draws: its x coordinate of a band point and of a stage boundary, and the x range shown (null: all). */
    private record Axis(String label, ToDoubleFunction<SeedBand.Point> x, ToDoubleFunction<RunCurve.Boundary> bx, Range range) {}

    /** Writes the plots of {@link CompareReport#PLOTS} into {@code dir}. */
    public static void write(CompareReport report, Path dir) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Files.createDirectories(dir);
        List<String> names = report.configs();
        List<SeedBand> bands = report.plotBands();
        List<RunCurve> curves = report.plotCurves(); // their stage boundaries
        double target = report.baselineTarget().mean();
        String note = report.rounds() > 1 ? "mean over seeds " + report.seeds().stream().map(String::valueOf).collect(Collectors.joining(", "))
                + "; shaded: ± 1 standard deviation over seeds" : null;
        // FLOPs in units of a power of ten, so the ticks read 0, 2, 4 ... rather than 2E10, 4E10
        double maxFlops = 0;
        for (SeedBand b : bands) for (SeedBand.Point p : b.points()) if (Double.isFinite(p.flops())) maxFlops = Math.max(maxFlops, p.flops());
        int exp = maxFlops > 0 ? (int) Math.floor(Math.log10(maxFlops)) : 0;
        double unit = Math.pow(10, exp);
        String xLabel = exp == 0 ? "cumulative training FLOPs" : "cumulative training FLOPs (× 1e" + exp + ")";
        ToDoubleFunction<SeedBand.Point> flopsX = p -> p.flops() / unit;
        ToDoubleFunction<RunCurve.Boundary> flopsBx = b -> b.flops() / unit;

        JFreeChart flops = chart("Validation loss vs training FLOPs", new Axis(xLabel, flopsX, flopsBx, null), names, bands, curves, target, note);
        ChartUtils.saveChartAsPNG(dir.resolve(CompareReport.FLOPS_PLOT).toFile(), flops, WIDTH, HEIGHT);
        // the last half of the baseline's run, where the curves have flattened and their differences are too small to see in full
        double baselineFlops = report.baselineFlops();
        double from = (Double.isFinite(baselineFlops) && baselineFlops > 0 ? baselineFlops / 2 : maxFlops / 2) / unit;
        Range zoom = new Range(from, Math.max(maxFlops / unit, from * 1.000001));
        JFreeChart zoomed = chart("Validation loss vs training FLOPs, from half the baseline's FLOPs on", new Axis(xLabel, flopsX, flopsBx, zoom),
                names, bands, curves, target, note);
        ChartUtils.saveChartAsPNG(dir.resolve(CompareReport.FLOPS_ZOOM_PLOT).toFile(), zoomed, WIDTH, HEIGHT);
        JFreeChart wall = chart("Validation loss vs training wall-clock", new Axis("training wall-clock (s, evaluation excluded)",
                SeedBand.Point::wallS, RunCurve.Boundary::wallS, null), names, bands, curves, target, note);
        ChartUtils.saveChartAsPNG(dir.resolve(CompareReport.WALL_PLOT).toFile(), wall, WIDTH, HEIGHT);
    }

    static Color colour(int config) {
        return config == 0 ? Color.BLACK : PALETTE[(config - 1) % PALETTE.length];
    }

    private static JFreeChart chart(String title, Axis axis, List<String> names, List<SeedBand> bands, List<RunCurve> curves, double target,
                                    String note) {
        YIntervalSeriesCollection data = new YIntervalSeriesCollection();
        for (int c = 0; c < names.size(); c++) {
            YIntervalSeries s = new YIntervalSeries(c == 0 && !names.get(c).contains("baseline") ? names.get(c) + " (baseline)" : names.get(c), false, true);
            for (SeedBand.Point p : bands.get(c).points()) {
                double x = axis.x().applyAsDouble(p);
                if (Double.isFinite(x)) s.add(x, p.mean(), p.low(), p.high());
            }
            data.addSeries(s);
        }
        JFreeChart chart = org.jfree.chart.ChartFactory.createXYLineChart(title, axis.label(), "validation loss", data, PlotOrientation.VERTICAL,
                true, false, false);
        Font base = new Font(Font.SANS_SERIF, Font.PLAIN, 15);
        chart.setBackgroundPaint(Color.WHITE);
        chart.setAntiAlias(true);
        chart.getTitle().setFont(base.deriveFont(Font.BOLD, 20f));
        if (note != null) {
            TextTitle sub = new TextTitle(note, base.deriveFont(13f));
            sub.setPaint(Color.DARK_GRAY);
            chart.addSubtitle(sub);
        }
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xdddddd));
        plot.setRangeGridlinePaint(new Color(0xdddddd));
        plot.setOutlinePaint(Color.GRAY);
        plot.setAxisOffset(RectangleInsets.ZERO_INSETS);

        NumberAxis xAxis = (NumberAxis) plot.getDomainAxis();
        NumberAxis yAxis = (NumberAxis) plot.getRangeAxis();
        for (NumberAxis a : List.of(xAxis, yAxis)) {
            a.setLabelFont(base.deriveFont(16f));
            a.setTickLabelFont(base.deriveFont(13f));
        }
        yAxis.setAutoRangeIncludesZero(false);
        if (axis.range() == null) {
            xAxis.setAutoRangeIncludesZero(true);
        } else {
            xAxis.setRange(axis.range());
            Range y = visibleLossRange(data, axis.range(), target);
            if (y != null) yAxis.setRange(y);
        }

        DeviationRenderer r = new DeviationRenderer(true, true);
        r.setAlpha(BAND_ALPHA);
        for (int c = 0; c < names.size(); c++) {
            Color col = colour(c);
            r.setSeriesPaint(c, col);
            r.setSeriesFillPaint(c, col);
            r.setSeriesStroke(c, new BasicStroke(c == 0 ? 3.5f : 2.2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
            double d = c == 0 ? 7 : 6;
            r.setSeriesShape(c, new java.awt.geom.Ellipse2D.Double(-d / 2, -d / 2, d, d));
        }
        plot.setRenderer(r);

        LegendTitle legend = chart.getLegend();
        legend.setItemFont(base.deriveFont(14f));
        legend.setPosition(RectangleEdge.BOTTOM);
        legend.setBackgroundPaint(Color.WHITE);
        legend.setFrame(new org.jfree.chart.block.BlockBorder(Color.WHITE));
        chart.setPadding(new RectangleInsets(8, 8, 8, 16));

        // stage boundaries: thin vertical lines in the config's colour, each config's labels on a row of their own so
        // that several growth schedules' labels do not print over each other; within a row, a label that would overlap
        // the one before it is left off (its line stays; report.md's Runs table names every boundary)
        int labelRow = 0;
        Rectangle2D dataArea = layoutDataArea(chart);
        FontRenderContext frc = new FontRenderContext(null, true, true);
        Font labelFont = base.deriveFont(11f);
        for (int c = 0; c < names.size(); c++) {
            if (curves.get(c).boundaries().isEmpty()) continue;
            double rowOffset = 3 + 13 * labelRow++;
            Color col = colour(c);
            Paint p = new Color(col.getRed(), col.getGreen(), col.getBlue(), 150);
            double rowEnd = Double.NEGATIVE_INFINITY; // where the row's last drawn label ends, in pixels
            for (RunCurve.Boundary b : curves.get(c).boundaries()) {
                double v = axis.bx().applyAsDouble(b);
                // outside a zoomed range a boundary is not drawn, and its label must not keep the next one off its row
                if (!Double.isFinite(v) || axis.range() != null && !axis.range().contains(v)) continue;
                ValueMarker m = new ValueMarker(v, p, new BasicStroke(1.2f));
                double at = xAxis.valueToJava2D(v, dataArea, RectangleEdge.BOTTOM) + 2;
                if (b.stage() != null && at >= rowEnd + 3) {
                    m.setLabel(b.stage());
                    rowEnd = at + labelFont.getStringBounds(b.stage(), frc).getWidth();
                }
                m.setLabelFont(labelFont);
                m.setLabelPaint(col);
                m.setLabelBackgroundColor(CLEAR);
                m.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
                m.setLabelTextAnchor(TextAnchor.TOP_LEFT);
                m.setLabelOffset(new RectangleInsets(rowOffset, 2, 2, 2));
                plot.addDomainMarker(m);
            }
        }
        // the baseline's final val loss (the target of "to reach"): a dashed horizontal line
        if (Double.isFinite(target)) {
            ValueMarker m = new ValueMarker(target, new Color(0x555555),
                    new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {8f, 6f}, 0f));
            m.setLabel(String.format(Locale.ROOT, "baseline final val loss %.4f", target));
            m.setLabelFont(base.deriveFont(12f));
            m.setLabelPaint(new Color(0x555555));
            m.setLabelBackgroundColor(CLEAR);
            m.setLabelAnchor(RectangleAnchor.BOTTOM_LEFT);
            m.setLabelTextAnchor(TextAnchor.TOP_LEFT);
            plot.addRangeMarker(m);
        }

        return chart;
    }

    /**
     * The loss range a zoomed chart shows: every band point inside the x range and each series' band where it enters
     * the range (interpolated, so the line coming in from the left stays in view), plus the target line, with a margin
     * of 5% on both sides. Null when nothing falls inside.
     */
    static Range visibleLossRange(YIntervalSeriesCollection data, Range x, double target) {
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (int s = 0; s < data.getSeriesCount(); s++) {
            YIntervalSeries series = data.getSeries(s);
            for (int i = 0; i < series.getItemCount(); i++) {
                double xi = series.getX(i).doubleValue();
                if (x.contains(xi)) {
                    lo = Math.min(lo, series.getYLowValue(i));
                    hi = Math.max(hi, series.getYHighValue(i));
                } else if (i + 1 < series.getItemCount() && xi < x.getLowerBound() && series.getX(i + 1).doubleValue() > x.getLowerBound()) {
                    double xj = series.getX(i + 1).doubleValue(), f = (x.getLowerBound() - xi) / (xj - xi);
                    lo = Math.min(lo, series.getYLowValue(i) + f * (series.getYLowValue(i + 1) - series.getYLowValue(i)));
                    hi = Math.max(hi, series.getYHighValue(i) + f * (series.getYHighValue(i + 1) - series.getYHighValue(i)));
                }
            }
        }
        if (!(lo <= hi)) return null;
        if (Double.isFinite(target)) {
            lo = Math.min(lo, target);
            hi = Math.max(hi, target);
        }
        double margin = Math.max(hi - lo, 1e-6) * 0.05;
        return new Range(lo - margin, hi + margin);
    }

    /** Where the plot's data area falls when the chart is drawn at {@link #WIDTH} x {@link #HEIGHT} (a layout pass, drawn and dropped). */
    private static Rectangle2D layoutDataArea(JFreeChart chart) {
        ChartRenderingInfo info = new ChartRenderingInfo();
        chart.createBufferedImage(WIDTH, HEIGHT, info);
        return info.getPlotInfo().getDataArea();
    }
}
