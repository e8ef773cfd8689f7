package dev.sprout.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BatchSamplerTest {
    @TempDir
    Path tmp;

    @Test
    void batchesAreWindowsOfTheRawStreamWithShiftedTargets() throws Exception {
        // Small shards so that windows regularly cross shard boundaries.
        TokenDataset ds = TestData.charDataset(tmp, TestData.text(5000), 0.1, 333);
        long[] raw = TestData.all(ds, Split.TRAIN);
        int batch = 4, ctx = 32;
        BatchSampler s = new BatchSampler(ds, batch, ctx, 7);
        long[] x = new long[batch * ctx], y = new long[batch * ctx];
        for (int step = 0; step < 50; step++) {
            long pos = s.position();
            s.next(x, y);
            assertEquals(pos + batch, s.position());
            for (int b = 0; b < batch; b++) {
                long start = s.windowStart(pos + b);
                assertTrue(start >= 0 && start + ctx + 1 <= raw.length, "start " + start);
                for (int j = 0; j < ctx; j++) {
                    assertEquals(raw[(int) start + j], x[b * ctx + j]);
                    assertEquals(raw[(int) start + j + 1], y[b * ctx + j]);
                }
            }
        }
    }

    @Test
    void seekReplaysAndSeedsDiffer() throws Exception {
        TokenDataset ds = TestData.charDataset(tmp, TestData.text(3000), 0.1, 1000);
        int batch = 3, ctx = 16;
        BatchSampler a = new BatchSampler(ds, batch, ctx, 1234);
        long[] x = new long[batch * ctx], y = new long[batch * ctx];
        long[][] xs = new long[10][], ys = new long[10][];
        for (int i = 0; i < 10; i++) {
            a.next(x, y);
            xs[i] = x.clone();
            ys[i] = y.clone();
        }
        // A fresh sampler resumed at step 6's position reproduces steps 6..9.
        BatchSampler b = new BatchSampler(ds, batch, ctx, 1234);
        b.seek(6L * batch);
        for (int i = 6; i < 10; i++) {
            b.next(x, y);
            assertArrayEquals(xs[i], x);
            assertArrayEquals(ys[i], y);
        }
        a.seek(0);
        a.next(x, y);
        assertArrayEquals(xs[0], x);

        BatchSampler c = new BatchSampler(ds, batch, ctx, 1235);
        c.next(x, y);
        assertFalse(Arrays.equals(xs[0], x));
    }

    @Test
    void startsAreInRangeAndCoverItUniformly() throws Exception {
        TokenDataset ds = TestData.charDataset(tmp, TestData.text(40), 0.1, 1000);
        long train = ds.tokens(Split.TRAIN);  // 36
        int ctx = 4;
        BatchSampler s = new BatchSampler(ds, 1, ctx, 99);
        int range = (int) (train - ctx);  // valid starts 0 .. train - ctx - 1
        int[] hits = new int[range];
        int draws = 64_000;
        for (long i = 0; i < draws; i++) {
            long st = s.windowStart(i);
            assertTrue(st >= 0 && st < range, "start " + st);
            hits[(int) st]++;
        }
        double expected = (double) draws / range;
        for (int h : hits) assertTrue(Math.abs(h - expected) < 0.1 * expected, Arrays.toString(hits));
    }

    @Test
    void tooSmallTrainSplitIsReported() throws Exception {
        TokenDataset ds = TestData.charDataset(tmp, "tiny text", 0.1, 1000);
        DataException e = assertThrows(DataException.class, () -> new BatchSampler(ds, 2, 64, 0));
        assertTrue(e.getMessage().contains(ds.dir().toString()) && e.getMessage().contains("65"), e.getMessage());
    }
}
