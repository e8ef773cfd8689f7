package dev.sprout.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.jfree.data.Range;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;
import org.junit.jupiter.api.Test;

/** What the plots draw: each config's mean over seeds with its band, and the zoomed plot's loss range. */
class ComparePlotsTest {
    private static RunCurve curve(double... valAtSteps10To30) {
        List<RunCurve.Point> points = new java.util.ArrayList<>();
        for (int i = 0; i < valAtSteps10To30.length; i++) points.add(new RunCurve.Point(10L * (i + 1), 1e9 * (i + 1), i + 1, valAtSteps10To30[i]));
        return new RunCurve(points, List.of());
    }

    @Test
    void theBandIsTheMeanAndSampleStandardDeviationOverSeeds() {
        SeedBand band = SeedBand.of(List.of(curve(3.0, 2.5, 2.0), curve(3.2, 2.7), curve(3.1, 2.6, 2.2)));
        assertEquals(2, band.points().size(), "step 30 is missing from one seed");
        SeedBand.Point p = band.points().get(1);
        assertEquals(20, p.step());
        assertEquals(2.6, p.mean(), 1e-12);
        assertEquals(0.1, p.std(), 1e-12);
        assertEquals(2.5, p.low(), 1e-12);
        assertEquals(2.7, p.high(), 1e-12);
        assertEquals(2e9, p.flops(), 1e-3);

        SeedBand one = SeedBand.of(List.of(curve(3.0, 2.5)));
        assertTrue(Double.isNaN(one.points().get(0).std()));
        assertEquals(3.0, one.points().get(0).low(), "one seed: no band, the line alone");
        assertEquals(3.0, one.points().get(0).high());
    }

    @Test
    void theZoomFitsTheLossAxisToWhatIsVisible() {
        YIntervalSeriesCollection data = new YIntervalSeriesCollection();
        YIntervalSeries a = new YIntervalSeries("a");
        a.add(1, 3.0, 3.0, 3.0);
        a.add(2, 2.0, 1.9, 2.1); // the line enters the range [1.5, 4] half way between 3.0 and 2.0: 2.5 (band 2.45 to 2.55)
        a.add(4, 1.6, 1.5, 1.7);
        YIntervalSeries b = new YIntervalSeries("b");
        b.add(0.5, 9.0, 9.0, 9.0); // off to the left and not connected into the range: not counted
        data.addSeries(a);
        data.addSeries(b);
        Range y = ComparePlots.visibleLossRange(data, new Range(1.5, 4), 1.55);
        // 1.5 to 2.55, a 5% margin of 1.05 on each side
        assertEquals(1.5 - 0.0525, y.getLowerBound(), 1e-12);
        assertEquals(2.55 + 0.0525, y.getUpperBound(), 1e-12);
        Range withTarget = ComparePlots.visibleLossRange(data, new Range(1.5, 4), 1.2);
        assertEquals(1.2 - 0.0675, withTarget.getLowerBound(), 1e-12, "the baseline's final val loss stays in view");
        assertNull(ComparePlots.visibleLossRange(data, new Range(5, 6), 1.2), "nothing inside");
    }
}
