package dev.sprout.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalWindowsTest {
    @TempDir
    Path tmp;

    @Test
    void sameWindowsEveryTimeSpreadOverValAndShifted() throws Exception {
        TokenDataset ds = TestData.charDataset(tmp, TestData.text(20_000), 0.1, 777);
        long[] val = TestData.all(ds, Split.VAL);  // 2000 tokens
        int ctx = 50;
        EvalWindows a = new EvalWindows(ds, ctx, 500);
        EvalWindows b = new EvalWindows(TokenDataset.open(ds.dir()), ctx, 500);
        assertEquals(10, a.windows());
        assertEquals(500, a.tokens());
        assertFalse(a.shortOfRequest());
        assertEquals(3, a.batches(4));

        long prevEnd = 0;
        for (int i = 0; i < a.windows(); i++) {
            assertEquals(a.windowStart(i), b.windowStart(i));
            assertTrue(a.windowStart(i) >= prevEnd, "windows overlap");
            prevEnd = a.windowStart(i) + ctx;
        }
        assertTrue(prevEnd + 1 <= val.length);
        assertTrue(a.windowStart(a.windows() - 1) > val.length / 2, "windows should spread over the whole split");

        long[] x1 = new long[4 * ctx], y1 = new long[4 * ctx], x2 = new long[4 * ctx], y2 = new long[4 * ctx];
        for (int k = 0; k < a.batches(4); k++) {
            int rows = a.batch(k, 4, x1, y1);
            assertEquals(k < 2 ? 4 : 2, rows);
            assertEquals(rows, b.batch(k, 4, x2, y2));
            assertArrayEquals(x1, x2);
            assertArrayEquals(y1, y2);
            for (int r = 0; r < rows; r++) {
                int start = (int) a.windowStart(k * 4 + r);
                for (int j = 0; j < ctx; j++) {
                    assertEquals(val[start + j], x1[r * ctx + j]);
                    assertEquals(val[start + j + 1], y1[r * ctx + j]);
                }
            }
        }
    }

    @Test
    void shortValSplitUsesAllOfItAndSaysSo() throws Exception {
        TokenDataset ds = TestData.charDataset(tmp, TestData.text(1000), 0.1, 1000);  // 100 val tokens
        EvalWindows w = new EvalWindows(ds, 16, 10_000);
        assertTrue(w.shortOfRequest());
        assertEquals(6, w.windows());  // (100 - 1) / 16
        assertEquals(w.windowStart(w.windows() - 1) + 16 + 1 <= 100, true);
        DataException e = assertThrows(DataException.class, () -> new EvalWindows(ds, 100, 1000));
        assertTrue(e.getMessage().contains("val split has 100 tokens"), e.getMessage());
    }
}
