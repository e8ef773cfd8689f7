package dev.sprout.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sprout.cli.Sprout;
import dev.sprout.dist.Ranks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Two processes on 127.0.0.1 with batch b train exactly what one process trains with batch b and two micro-batches:
 * the same windows, the gradients averaged before clipping, so the same loss and gradient norm at every step. Every
 * process runs one thread: with another thread count libtorch's reductions round differently, and some methods (Adam on
 * near-zero gradients in incremental training's frozen phases) amplify those last bits into visible differences.
 */
class DataParallelTest {
    static List<JsonNode> rows(Path run) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) out.add(MetricsLog.JSON.readTree(line));
        return out;
    }

    static String[] train(Path cfg, Path data, Path out, List<String> sets) {
        List<String> a = new ArrayList<>(List.of("train", "--config", cfg.toString(), "--data", data.toString(), "--out", out.toString()));
        for (String s : sets) a.addAll(List.of("--set", s));
        return a.toArray(String[]::new);
    }

    static double rel(double a, double b) {
        return Math.abs(a - b) / Math.max(1e-12, Math.abs(b));
    }

    @ParameterizedTest
    @ValueSource(strings = {"baseline", "est", "raptr", "incremental", "stacking", "switchlora", "galore", "relora",
            "baseline/shard", "est/shard", "stacking/shard", "switchlora/shard", "galore/shard"})
    @Timeout(240)
    void twoRanksMatchOneProcessWithTwoMicroBatches(String variant, @TempDir Path tmp) throws Exception {
        String method = variant.replace("/shard", "");
        boolean shard = variant.endsWith("/shard"); // ZeRO stage 1: each rank updates its share, then broadcasts it
        Path data = TestRuns.shakespeareChars(), cfg = TestRuns.tinyConfig(tmp, "gpt2");
        List<String> sets = new ArrayList<>(List.of("train.max_steps=100", "train.eval_every=50", "checkpoint.every=0", "method.name=" + method));
        switch (method) { // each through the events that could set ranks apart: swaps and freezes, growth, a basis refresh, a restart
            case "raptr" -> sets.addAll(List.of("model.n_layer=4", "method.raptr.path_lengths=3-4"));
            case "incremental" -> sets.addAll(List.of("model.n_layer=4", "method.incremental.stages=2"));
            case "stacking" -> sets.add("method.stacking.depths=1-2");
            case "switchlora" -> sets.addAll(List.of("method.lora.rank=4", "method.switchlora.interval0=10", "optim.lr=2e-2"));
            case "galore" -> sets.addAll(List.of("method.galore.rank=4", "method.galore.update_every=20"));
            case "relora" -> sets.addAll(List.of("method.lora.rank=4", "method.relora.reset_every=30"));
            default -> { }
        }
        List<String> one = new ArrayList<>(sets), two = new ArrayList<>(sets);
        one.add("train.grad_accum=2");
        if (shard) two.add("dist.shard_optimizer=true");
        Path single = tmp.resolve("one"), job = tmp.resolve("two");
        Ranks.Result alone = Ranks.runAlone(Sprout.class.getName(), List.of(train(cfg, data, single, one)), 200);
        assertEquals(0, alone.code(), alone.output());
        List<Ranks.Result> rs = Ranks.run(2, Sprout.class.getName(), List.of(train(cfg, data, job, two)), Map.of(), 200);
        for (Ranks.Result r : rs) assertEquals(0, r.code(), "rank " + r.rank() + ":\n" + r.output());
        assertTrue(!rs.get(1).output().contains("step 1/") && rs.get(0).output().contains("step 1/"), "rank 0 alone reports progress: " + rs.get(1).output());
        List<JsonNode> a = rows(single), b = rows(job);
        assertEquals(100, b.size());
        for (int i = 0; i < a.size(); i++) {
            JsonNode x = a.get(i), y = b.get(i);
            assertEquals(x.get("tokens").asLong(), y.get("tokens").asLong(), "tokens at step " + (i + 1));
            assertEquals(x.get("flops").asDouble(), y.get("flops").asDouble(), 1e-6 * x.get("flops").asDouble(), "flops at step " + (i + 1));
            assertTrue(rel(y.get("loss").asDouble(), x.get("loss").asDouble()) <= 1e-4, method + " loss at step " + (i + 1) + ": " + y.get("loss") + " vs " + x.get("loss"));
            assertTrue(rel(y.get("grad_norm").asDouble(), x.get("grad_norm").asDouble()) <= 1e-4, method + " grad_norm at step " + (i + 1) + ": " + y.get("grad_norm") + " vs " + x.get("grad_norm"));
            if (x.has("val_loss")) assertTrue(rel(y.get("val_loss").asDouble(), x.get("val_loss").asDouble()) <= 1e-4, "val_loss at step " + (i + 1));
            assertTrue(y.has("comm_ms"), "the job's rows report communication time");
        }
        // rank 0 alone writes the spreadsheet and the TensorBoard file, with the communication time in both
        MetricsCsvTest.assertMatchesJsonl(job);
        List<Path> events = TensorBoardLogTest.eventFiles(job);
        assertEquals(1, events.size(), "one events file, rank 0's: " + events);
        List<EventFileReader.Event> e = EventFileReader.read(events.get(0));
        assertEquals(101, e.size());
        assertEquals((float) b.get(99).get("comm_ms").asDouble(), e.get(100).scalars().get("comm_ms"), 0f);
        if (shard) {
            long whole = MetricsLog.JSON.readTree(single.resolve("summary.json").toFile()).get("optimizer_state_bytes").asLong();
            long rank0 = MetricsLog.JSON.readTree(job.resolve("summary.json").toFile()).get("optimizer_state_bytes").asLong();
            assertTrue(rank0 < 0.8 * whole, "rank 0 keeps about half the state: " + rank0 + " of " + whole);
        }
    }

    /** Ranks started with different configurations stop, all of them, with one line naming the rank and the key; nothing is written. */
    @org.junit.jupiter.api.Test
    @Timeout(120)
    void ranksThatDisagreeStopBeforeAnythingIsWritten(@TempDir Path tmp) throws Exception {
        Path data = TestRuns.shakespeareChars(), cfg = TestRuns.tinyConfig(tmp, "gpt2"), run = tmp.resolve("run");
        int port = Ranks.freePort();
        List<Process> ps = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            ps.add(Ranks.start(r, 2, port, Sprout.class.getName(), List.of(train(cfg, data, run, List.of("optim.lr=" + (r + 1) + "e-3"))), Map.of()));
        }
        List<Ranks.Result> rs = Ranks.collect(ps, 100);
        for (Ranks.Result r : rs) {
            assertEquals(2, r.code(), r.output());
            assertTrue(r.output().contains("error: rank 1's configuration differs from rank 0's at optim.lr: 0.001 vs 0.002"), r.output());
        }
        assertTrue(!Files.exists(run), "nothing written");
    }

    /**
     * SIGKILL one of two ranks mid-run: the other stops with an error instead of hanging, the last checkpoint is intact,
     * and the job resumed from it reproduces an uninterrupted two-rank run's loss at every step. Four ranks of one thread
     * each then agree on their parameters at every check (dist.check_every).
     */
    @org.junit.jupiter.api.Test
    @Timeout(240)
    void aLostRankStopsTheJobAndItResumesExactly(@TempDir Path tmp) throws Exception {
        Path data = TestRuns.shakespeareChars(), cfg = TestRuns.tinyConfig(tmp, "gpt2");
        List<String> sets = List.of("train.max_steps=300", "train.eval_every=100", "checkpoint.every=20", "dist.timeout_s=30");
        Path whole = tmp.resolve("whole"), broken = tmp.resolve("broken");
        List<Ranks.Result> ok = Ranks.run(2, Sprout.class.getName(), List.of(train(cfg, data, whole, sets)), Map.of(), 200);
        for (Ranks.Result r : ok) assertEquals(0, r.code(), r.output());

        int port = Ranks.freePort();
        List<Process> ps = new ArrayList<>();
        for (int r = 0; r < 2; r++) ps.add(Ranks.start(r, 2, port, Sprout.class.getName(), List.of(train(cfg, data, broken, sets)), Map.of()));
        Path metrics = broken.resolve("metrics.jsonl");
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (!(Files.exists(metrics) && Files.readAllLines(metrics).size() >= 120) && System.nanoTime() < deadline && ps.get(0).isAlive()) Thread.sleep(20);
        ps.get(1).destroyForcibly();
        long killed = System.nanoTime();
        List<Ranks.Result> rs = Ranks.collect(ps, 90);
        assertTrue((System.nanoTime() - killed) / 1e9 < 60, "rank 0 gave up within 60 s");
        assertTrue(rs.get(0).code() != 0 && rs.get(0).output().contains("a peer rank is gone"), rs.get(0).output());

        List<Ranks.Result> resumed = Ranks.run(2, Sprout.class.getName(),
                List.of("train", "--out", broken.toString(), "--resume"), Map.of(), 200);
        for (Ranks.Result r : resumed) assertEquals(0, r.code(), r.output());
        List<JsonNode> a = rows(whole), b = rows(broken);
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) assertEquals(a.get(i).get("loss").asDouble(), b.get(i).get("loss").asDouble(), 0.0, "loss at step " + (i + 1));

        List<Ranks.Result> four = Ranks.run(4, Sprout.class.getName(), List.of(train(cfg, data, tmp.resolve("four"),
                List.of("train.max_steps=30", "dist.check_every=10", "checkpoint.every=0"))), Map.of(), 200);
        for (Ranks.Result r : four) assertEquals(0, r.code(), "rank " + r.rank() + ": " + r.output());
    }

    /**
     * A run started by two ranks (with a sharded optimizer: its checkpoint gathers every rank's share) resumes in one
     * process when the global batch stays the same (--set train.grad_accum=2), and goes on as the two-rank run would
     * have; with another global batch it stops with one line saying what to set.
     */
    @org.junit.jupiter.api.Test
    @Timeout(240)
    void aRunResumesWithAnotherWorldSizeWhenTheGlobalBatchIsKept(@TempDir Path tmp) throws Exception {
        Path data = TestRuns.shakespeareChars(), cfg = TestRuns.tinyConfig(tmp, "gpt2");
        List<String> sets = List.of("train.max_steps=60", "train.eval_every=30", "checkpoint.every=0");
        Path whole = tmp.resolve("whole"), moved = tmp.resolve("moved");
        for (Ranks.Result r : Ranks.run(2, Sprout.class.getName(), List.of(train(cfg, data, whole, sets)), Map.of(), 200)) assertEquals(0, r.code(), r.output());
        List<String> first = new ArrayList<>(List.of(train(cfg, data, moved, sets)));
        first.addAll(List.of("--max-steps", "30", "--set", "dist.shard_optimizer=true"));
        for (Ranks.Result r : Ranks.run(2, Sprout.class.getName(), first, Map.of(), 200)) assertEquals(0, r.code(), r.output());

        Ranks.Result wrong = Ranks.runAlone(Sprout.class.getName(), List.of("train", "--out", moved.toString(), "--resume"), 100);
        assertEquals(2, wrong.code(), wrong.output());
        assertTrue(wrong.output().contains("global batch of 16 sequences (2 rank(s) x 8 sequences x 1 micro-batches); this job has 8")
                && wrong.output().contains("--set train.batch_size=B --set train.grad_accum=A such that WORLD_SIZE x B x A = 16"), wrong.output());
        Ranks.Result other = Ranks.runAlone(Sprout.class.getName(), List.of("train", "--out", moved.toString(), "--resume", "--set", "optim.lr=1e-3"), 100);
        assertTrue(other.code() == 2 && other.output().contains("start a new run to change optim.lr"), other.output());

        Ranks.Result alone = Ranks.runAlone(Sprout.class.getName(), List.of("train", "--out", moved.toString(), "--resume", "--set", "train.grad_accum=2"), 100);
        assertEquals(0, alone.code(), alone.output());
        List<JsonNode> a = rows(whole), b = rows(moved);
        assertEquals(60, b.size());
        for (int i = 0; i < a.size(); i++) {
            assertTrue(rel(b.get(i).get("loss").asDouble(), a.get(i).get("loss").asDouble()) <= 1e-4, "loss at step " + (i + 1) + ": " + b.get(i) + " vs " + a.get(i));
        }
        assertTrue(Files.readString(moved.resolve("config.yaml")).contains("grad_accum: 2"), "config.yaml holds the latest session's split");
    }
}
