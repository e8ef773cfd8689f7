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
import org.jfree.chart.ChartRenderingInfo;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** The two PNG plots of `sprout compare`: val loss against cumulative FLOPs and against training wall-clock. */
public final class ComparePlots {
    public static final int WIDTH = 1000, HEIGHT = 600;
    /** Colours of the non-baseline configs, in order (the baseline is black). */
    static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
            new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf), new Color(0xbcbd22), new Color(0x7f7f7f)};

    private static final Color CLEAR = new Color(255, 255, 255, 0);

    private ComparePlots() {}

    /** Writes {@link CompareReport#FLOPS_PLOT} and {@link CompareReport#WALL_PLOT} into {@code dir}. */
    public static void write(CompareReport report, Path dir) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Files.createDirectories(dir);
        List<String> names = report.configs();
        List<RunCurve> curves = report.plotCurves();
        double target = report.baselineTarget().mean();
        String note = report.rounds() > 1 ? "mean over seeds " + report.seeds() : null;
        // FLOPs in units of a power of ten, so the ticks read 0, 2, 4 ... rather than 2E10, 4E10
        double maxFlops = 0;
        for (RunCurve c : curves) for (RunCurve.Point p : c.evals()) if (Double.isFinite(p.flops())) maxFlops = Math.max(maxFlops, p.flops());
        int exp = maxFlops > 0 ? (int) Math.floor(Math.log10(maxFlops)) : 0;
        double unit = Math.pow(10, exp);
        String xLabel = exp == 0 ? "cumulative training FLOPs" : "cumulative training FLOPs (× 1e" + exp + ")";
        JFreeChart flops = chart("Validation loss vs training FLOPs", xLabel, names, curves, target,
                p -> p.flops() / unit, b -> b.flops() / unit, note);
        ChartUtils.saveChartAsPNG(dir.resolve(CompareReport.FLOPS_PLOT).toFile(), flops, WIDTH, HEIGHT);
        JFreeChart wall = chart("Validation loss vs training wall-clock", "training wall-clock (s, evaluation excluded)", names, curves, target,
                RunCurve.Point::wallS, RunCurve.Boundary::wallS, note);
        ChartUtils.saveChartAsPNG(dir.resolve(CompareReport.WALL_PLOT).toFile(), wall, WIDTH, HEIGHT);
    }

    static Color colour(int config) {
        return config == 0 ? Color.BLACK : PALETTE[(config - 1) % PALETTE.length];
    }

    private static JFreeChart chart(String title, String xLabel, List<String> names, List<RunCurve> curves, double target,
                                    ToDoubleFunction<RunCurve.Point> x, ToDoubleFunction<RunCurve.Boundary> bx, String note) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (int c = 0; c < names.size(); c++) {
            XYSeries s = new XYSeries(c == 0 && !names.get(c).contains("baseline") ? names.get(c) + " (baseline)" : names.get(c), false, true);
            for (RunCurve.Point p : curves.get(c).evals()) if (Double.isFinite(x.applyAsDouble(p))) s.add(x.applyAsDouble(p), p.valLoss());
            data.addSeries(s);
        }
        JFreeChart chart = org.jfree.chart.ChartFactory.createXYLineChart(title, xLabel, "validation loss", data, PlotOrientation.VERTICAL,
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
        xAxis.setAutoRangeIncludesZero(true);
        yAxis.setAutoRangeIncludesZero(false);

        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
        for (int c = 0; c < names.size(); c++) {
            Color col = colour(c);
            r.setSeriesPaint(c, col);
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
                double v = bx.applyAsDouble(b);
                if (!Double.isFinite(v)) continue;
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

    /** Where the plot's data area falls when the chart is drawn at {@link #WIDTH} x {@link #HEIGHT} (a layout pass, drawn and dropped). */
    private static Rectangle2D layoutDataArea(JFreeChart chart) {
        ChartRenderingInfo info = new ChartRenderingInfo();
        chart.createBufferedImage(WIDTH, HEIGHT, info);
        return info.getPlotInfo().getDataArea();
    }
}
