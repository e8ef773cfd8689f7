package dev.sprout.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** c10d Gloo collectives between real processes on 127.0.0.1. */
class CollectivesTest {
    @Test
    @Timeout(120)
    void threeRanksSumBroadcastAndExchange() throws Exception {
        List<Ranks.Result> rs = Ranks.run(3, CollectivesProbe.class.getName(), List.of("30"), Map.of(), 90);
        for (Ranks.Result r : rs) {
            assertEquals(0, r.code(), "rank " + r.rank() + ": " + r.output());
            // a: 10 x (1 + 2 + 3); b: 3 x 1; d: (0+1+2+3+4+5) x (0 + 1 + 2)
            assertTrue(r.output().contains("sums 60.0 3.0 45.0"), r.output());
            assertTrue(r.output().contains("numbers 4.5"), r.output());
            assertTrue(r.output().contains("texts [rank0, rank1, rank2]"), r.output());
            assertTrue(r.output().contains("broadcast 24.0"), r.output());
        }
    }

    @Test
    @Timeout(120)
    void aLostPeerIsAnErrorNotAHang() throws Exception {
        long start = System.nanoTime();
        List<Ranks.Result> rs = Ranks.run(2, CollectivesProbe.class.getName(), List.of("10", "die"), Map.of(), 90);
        assertEquals(137 - 128, rs.get(1).code(), "rank 1 halted itself with 9: " + rs.get(1).output());
        assertEquals(2, rs.get(0).code(), rs.get(0).output());
        assertTrue(rs.get(0).output().contains("error: rank 0: an allreduce"), rs.get(0).output());
        assertTrue((System.nanoTime() - start) / 1e9 < 60, "within the timeout, not a hang");
    }

    /** Rank 0 on a port already taken, and a rank whose master never answers: one line each, within the timeout. */
    @Test
    @Timeout(120)
    void aTakenPortOrAnAbsentMasterIsOneLine() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Process p = Ranks.start(0, 2, taken.getLocalPort(), CollectivesProbe.class.getName(), List.of("5"), Map.of());
            Ranks.Result r = Ranks.collect(List.of(p), 60).get(0);
            assertEquals(2, r.code(), r.output());
            assertTrue(r.output().contains("error: rank 0 cannot serve the store on 127.0.0.1:" + taken.getLocalPort() + " (is the port in use?)"), r.output());
        }
        long start = System.nanoTime();
        Process alone = Ranks.start(1, 2, Ranks.freePort(), CollectivesProbe.class.getName(), List.of("5"), Map.of());
        Ranks.Result r = Ranks.collect(List.of(alone), 60).get(0);
        assertEquals(2, r.code(), r.output());
        assertTrue(r.output().contains("error: rank 1 cannot reach rank 0's store at 127.0.0.1:"), r.output());
        assertTrue((System.nanoTime() - start) / 1e9 < 40, "gave up after about the 5 s timeout");
    }

    @Test
    void theEnvironmentNamesWhatIsMissing() {
        assertEquals(DistEnv.SINGLE, DistEnv.from(Map.of()));
        assertEquals(1, DistEnv.from(Map.of("RANK", "0", "WORLD_SIZE", "1")).worldSize());
        assertTrue(message(Map.of("WORLD_SIZE", "2")).contains("RANK is not"));
        assertTrue(message(Map.of("RANK", "1")).contains("WORLD_SIZE is not"));
        assertTrue(message(Map.of("RANK", "2", "WORLD_SIZE", "2")).contains("outside 0..1"));
        assertTrue(message(Map.of("RANK", "0", "WORLD_SIZE", "2", "MASTER_PORT", "1")).contains("MASTER_ADDR"));
        assertTrue(message(Map.of("RANK", "0", "WORLD_SIZE", "2", "MASTER_ADDR", "h", "MASTER_PORT", "x")).contains("MASTER_PORT must be a whole number"));
        DistEnv e = DistEnv.from(Map.of("RANK", "3", "WORLD_SIZE", "4", "LOCAL_RANK", "1", "LOCAL_WORLD_SIZE", "2", "MASTER_ADDR", "h", "MASTER_PORT", "29500"));
        assertEquals(new DistEnv(3, 4, 1, 2, "h", 29500), e);
    }

    private static String message(Map<String, String> env) {
        try {
            DistEnv.from(env);
            return "(no error)";
        } catch (DistException e) {
            return e.getMessage();
        }
    }
}
