package dev.sprout.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sprout.cli.Sprout;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {
    @TempDir
    Path tmp;

    static List<JsonNode> rows(Path run) throws IOException {
        return MetricsLog.read(run.resolve("metrics.jsonl"));
    }

    static String[] train(Path cfg, Path data, Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--config", cfg.toString(), "--data", data.toString(), "--out", out.toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    /** The CLI in a child JVM with the launcher's native settings, its output in child.log. */
    private Process startChild(String... args) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Dorg.bytedeco.openblas.load=mkl_rt", "-cp", System.getProperty("java.class.path"), "dev.sprout.cli.Sprout"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile());
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        pb.environment().put("MKL_THREADING_LAYER", "GNU");
        return dev.sprout.dist.Ranks.reaped(pb.start());
    }

    @Test
    void lossFallsAndTheRunFolderIsComplete() throws IOException {
        Path data = TestRuns.shakespeareChars();
        Path run = tmp.resolve("run");
        assertEquals(0, Sprout.execute(train(TestRuns.tinyConfig(tmp, "gpt2"), data, run, "--set", "train.max_steps=120", "--set", "train.eval_every=40")));
        List<JsonNode> rows = rows(run);
        assertEquals(120, rows.size(), "one metrics row per optimizer step");
        for (int i = 0; i < rows.size(); i++) {
            JsonNode r = rows.get(i);
            assertEquals(i + 1, r.get("step").asLong());
            assertEquals((i + 1) * 8L * 32, r.get("tokens").asLong());
            for (String k : List.of("flops", "wall_s", "loss", "lr")) assertTrue(r.has(k), "row lacks " + k);
        }
        List<Double> val = rows.stream().filter(r -> r.has("val_loss")).map(r -> r.get("val_loss").asDouble()).toList();
        assertEquals(3, val.size(), "evals at 40, 80 and 120");
        double first = rows.get(0).get("loss").asDouble(), last = val.get(val.size() - 1);
        assertTrue(first > 3.5, "initial loss near ln(vocab): " + first);
        assertTrue(last < first - 1.0, "val loss should fall by more than a nat: " + first + " -> " + last);
        assertTrue(val.get(2) < val.get(0), "val loss falls between evals: " + val);
        JsonNode s = MetricsLog.JSON.readTree(run.resolve("summary.json").toFile());
        assertEquals(last, s.get("final_val_loss").asDouble());
        assertEquals(120, s.get("steps").asLong());
        assertEquals("baseline", s.get("method").asText());
        assertEquals(rows.get(119).get("flops").asDouble(), s.get("flops").asDouble());
        assertTrue(Files.isRegularFile(run.resolve("config.yaml")));
        assertEquals(2, new Checkpoints(run.resolve("checkpoints"), 2).list().size(), "checkpoint.keep=2");
    }

    @Test
    void llamaTrainsToo() throws IOException {
        Path data = TestRuns.shakespeareChars();
        Path run = tmp.resolve("llama");
        assertEquals(0, Sprout.execute(train(TestRuns.tinyConfig(tmp, "llama"), data, run, "--set", "train.max_steps=60")));
        List<JsonNode> rows = rows(run);
        assertTrue(rows.get(59).get("val_loss").asDouble() < rows.get(0).get("loss").asDouble() - 0.8);
    }

    @Test
    void gradientAccumulationMatchesOneLargeBatchInTokensAndFlops() throws IOException {
        Path data = TestRuns.shakespeareChars();
        Path run = tmp.resolve("accum");
        assertEquals(0, Sprout.execute(train(TestRuns.tinyConfig(tmp, "gpt2"), data, run, "--set", "train.grad_accum=3", "--max-steps", "4")));
        List<JsonNode> rows = rows(run);
        assertEquals(4, rows.size());
        assertEquals(4 * 3 * 8 * 32L, rows.get(3).get("tokens").asLong());
        JsonNode summary = MetricsLog.JSON.readTree(run.resolve("summary.json").toFile());
        assertFalse(summary.get("complete").asBoolean());
        assertTrue(summary.has("last_val_loss") && !summary.has("final_val_loss"), "an incomplete run has no final loss: " + summary);
    }

    @Test
    void resumeAfterSigkillIsBitIdenticalToAnUninterruptedRun() throws Exception {
        Path data = TestRuns.shakespeareChars();
        Path cfg = TestRuns.tinyConfig(tmp, "gpt2");
        Path straight = tmp.resolve("straight"), killed = tmp.resolve("killed");
        // Long enough (300 steps) that the child is still training when the parent sees its checkpoint.
        assertEquals(0, Sprout.execute(train(cfg, data, straight, "--set", "train.max_steps=300")));

        // Same command in a child JVM, killed with SIGKILL once it has written a checkpoint and gone past it.
        Process child = startChild(train(cfg, data, killed, "--set", "train.max_steps=300"));
        Checkpoints ckpts = new Checkpoints(killed.resolve("checkpoints"), 2);
        long deadline = System.currentTimeMillis() + 120_000;
        while (!(Files.exists(killed.resolve("metrics.jsonl")) && !ckpts.list().isEmpty() && rows(killed).size() >= 23)
                && child.isAlive() && System.currentTimeMillis() < deadline) Thread.sleep(10);
        assertTrue(child.isAlive(), "child ended before it could be killed: " + Files.readString(tmp.resolve("child.log")));
        child.destroyForcibly(); // SIGKILL
        assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        int seen = rows(killed).size();
        assertTrue(seen > 20 && seen < 300, "killed mid-run, after a checkpoint: " + seen);

        assertEquals(0, Sprout.execute("train", "--out", killed.toString(), "--resume"));
        MetricsCsvTest.assertMatchesJsonl(killed); // whatever the kill cut short, metrics.csv holds the steps metrics.jsonl holds
        List<JsonNode> a = rows(straight), b = rows(killed);
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).get("loss").asDouble(), b.get(i).get("loss").asDouble(), 0.0, "loss at step " + (i + 1));
            assertEquals(a.get(i).get("flops").asDouble(), b.get(i).get("flops").asDouble(), 0.0);
            assertEquals(a.get(i).get("tokens").asLong(), b.get(i).get("tokens").asLong());
            if (a.get(i).has("val_loss")) assertEquals(a.get(i).get("val_loss").asDouble(), b.get(i).get("val_loss").asDouble(), 0.0);
        }
    }

    @Test
    void subnetworkRunsResumeExactlyAndLogTheirStages() throws IOException {
        Path data = TestRuns.shakespeareChars();
        Path cfg = TestRuns.tinyConfig(tmp, "llama");
        for (String method : List.of("est", "raptr")) {
            Path straight = tmp.resolve(method + "-straight"), split = tmp.resolve(method + "-split");
            String[] sets = {"--set", "method.name=" + method, "--set", "model.n_layer=4", "--set", "method.raptr.path_lengths=2-3-4"};
            assertEquals(0, Sprout.execute(train(cfg, data, straight, sets)));
            List<String> first = new ArrayList<>(List.of(train(cfg, data, split, sets)));
            first.addAll(List.of("--max-steps", "25"));
            assertEquals(0, Sprout.execute(first.toArray(String[]::new)));
            assertEquals(0, Sprout.execute("train", "--out", split.toString(), "--resume"));
            List<JsonNode> a = rows(straight), b = rows(split);
            assertEquals(40, b.size());
            for (int i = 0; i < 40; i++) {
                assertEquals(a.get(i).get("loss").asDouble(), b.get(i).get("loss").asDouble(), 0.0, method + " step " + (i + 1));
                assertEquals(a.get(i).get("stage").asText(), b.get(i).get("stage").asText());
            }
            assertEquals("1", a.get(0).get("stage").asText());
            assertTrue(a.get(0).get("active_fraction").asDouble() < 1.0, method + " starts with a subnetwork");
            assertTrue(a.get(0).get("flops").asDouble() < rows(tmp.resolve(method + "-straight")).get(39).get("flops").asDouble() / 40,
                    method + ": early steps cost less than the average");
            assertEquals(method, MetricsLog.JSON.readTree(straight.resolve("summary.json").toFile()).get("method").asText());
        }
    }

    @Test
    void growthRunsResumeExactlyFromCheckpointsBeforeAtAndAfterAGrowthEvent() throws IOException {
        Path data = TestRuns.shakespeareChars();
        Path cfg = TestRuns.tinyConfig(tmp, "gpt2");
        // both grow at step 20 of 40: stacking copies block 0 onto block 1; incremental starts continual training
        // with a fresh optimizer state after two stages of 10 steps (the first half of each with frozen blocks)
        var methods = java.util.Map.of(
                "stacking", new String[]{"--set", "method.name=stacking", "--set", "method.stacking.depths=1-2"},
                "incremental", new String[]{"--set", "method.name=incremental", "--set", "method.incremental.stages=2",
                        "--set", "method.incremental.incremental_fraction=0.5"});
        for (var e : methods.entrySet()) {
            Path straight = tmp.resolve(e.getKey() + "-straight");
            assertEquals(0, Sprout.execute(train(cfg, data, straight, e.getValue())));
            List<JsonNode> a = rows(straight);
            for (int stop : new int[]{19, 20, 21}) {
                Path split = tmp.resolve(e.getKey() + "-" + stop);
                List<String> first = new ArrayList<>(List.of(train(cfg, data, split, e.getValue())));
                first.addAll(List.of("--max-steps", String.valueOf(stop)));
                assertEquals(0, Sprout.execute(first.toArray(String[]::new)));
                assertEquals(0, Sprout.execute("train", "--out", split.toString(), "--resume"));
                List<JsonNode> b = rows(split);
                assertEquals(40, b.size());
                for (int i = 0; i < 40; i++) {
                    assertEquals(a.get(i).get("loss").asDouble(), b.get(i).get("loss").asDouble(), 0.0, e.getKey() + " stopped at " + stop + ", step " + (i + 1));
                    assertEquals(a.get(i).get("flops").asDouble(), b.get(i).get("flops").asDouble(), 0.0);
                }
                JsonNode sa = MetricsLog.JSON.readTree(straight.resolve("summary.json").toFile()), sb = MetricsLog.JSON.readTree(split.resolve("summary.json").toFile());
                assertEquals(sa.get("final_val_loss").asDouble(), sb.get("final_val_loss").asDouble(), 0.0);
                assertEquals(sa.get("flops_paper_model").asDouble(), sb.get("flops_paper_model").asDouble(), 0.0);
            }
            assertEquals(e.getKey().equals("stacking") ? "1" : "1-new", a.get(0).get("stage").asText());
            assertEquals(e.getKey().equals("stacking") ? "2" : "full", a.get(20).get("stage").asText());
        }
    }

    @Test
    void lowRankRunsResumeExactlyInTheMiddleOfSwitchingAndRestarts() throws IOException {
        Path data = TestRuns.shakespeareChars();
        Path cfg = TestRuns.tinyConfig(tmp, "llama");
        String[] common = {"--set", "method.lora.rank=4", "--set", "optim.weight_decay=0"};
        var methods = java.util.Map.of(
                // about 0.4 swaps per side and layer per step, counterparts frozen 3 steps: stopping at 23 cuts through both
                "switchlora", new String[]{"--set", "method.name=switchlora", "--set", "method.switchlora.interval0=10", "--set", "method.switchlora.freeze_steps=3"},
                "relora", new String[]{"--set", "method.name=relora", "--set", "method.relora.reset_every=15", "--set", "method.relora.restart_warmup=5"},
                "lora", new String[]{"--set", "method.name=lora"});
        for (var e : methods.entrySet()) {
            List<String> args = new ArrayList<>(List.of(common));
            args.addAll(List.of(e.getValue()));
            String[] sets = args.toArray(String[]::new);
            Path straight = tmp.resolve(e.getKey() + "-straight"), split = tmp.resolve(e.getKey() + "-split");
            assertEquals(0, Sprout.execute(train(cfg, data, straight, sets)));
            List<String> first = new ArrayList<>(List.of(train(cfg, data, split, sets)));
            first.addAll(List.of("--max-steps", "23"));
            assertEquals(0, Sprout.execute(first.toArray(String[]::new)));
            assertEquals(0, Sprout.execute("train", "--out", split.toString(), "--resume"));
            List<JsonNode> a = rows(straight), b = rows(split);
            for (int i = 0; i < 40; i++) {
                assertEquals(a.get(i).get("loss").asDouble(), b.get(i).get("loss").asDouble(), 0.0, e.getKey() + " step " + (i + 1));
                assertEquals(a.get(i).get("lr").asDouble(), b.get(i).get("lr").asDouble(), 0.0);
            }
            assertTrue(a.get(39).get("loss").asDouble() < a.get(0).get("loss").asDouble() - 0.5, e.getKey() + " learns: " + a.get(39).get("loss"));
        }
        // ReLoRA's learning rate re-warms after the restart at step 15 (rows are 1-based: row 16 is step 15)
        List<JsonNode> relora = rows(tmp.resolve("relora-straight"));
        assertTrue(relora.get(15).get("lr").asDouble() < 0.3 * relora.get(14).get("lr").asDouble(), "jagged schedule: " + relora.get(15).get("lr"));
    }

    @Test
    void summaryAccountsTheTrainingStatesMemoryForTheWholeModelAndTheBlocks() throws IOException {
        Path data = TestRuns.shakespeareChars();
        // 2 blocks, d=32, 2 heads (no GQA): q, k, v, o 32x32; SwiGLU width 2/3 * 4d rounded up to a multiple of 64 = 128
        Path cfg = TestRuns.tinyConfig(tmp, "llama");
        int r = 4, c = 32, f = 128, layers = 2;
        long linears = 4L * c * c + 3L * f * c, adapters = 4L * r * (c + c) + 3L * r * (c + f), norms = 2L * c;
        java.util.Map<String, JsonNode> s = new java.util.HashMap<>();
        for (String method : List.of("baseline", "lora", "galore")) {
            Path out = tmp.resolve("mem-" + method);
            assertEquals(0, Sprout.execute(train(cfg, data, out, "--set", "method.name=" + method, "--set", "method.lora.rank=" + r,
                    "--set", "method.galore.rank=" + r, "--max-steps", "2")));
            s.put(method, MetricsLog.JSON.readTree(out.resolve("summary.json").toFile()));
        }
        long params = s.get("baseline").get("params").asLong();
        assertEquals(params, s.get("baseline").get("trainable_params").asLong());
        assertEquals(8 * params, s.get("baseline").get("optimizer_state_bytes").asLong(), "AdamW: two float moments per parameter");
        assertEquals(4 * params, s.get("baseline").get("gradient_bytes").asLong());
        assertEquals(8 * layers * (linears + norms), s.get("baseline").get("optimizer_state_bytes_blocks").asLong());
        assertEquals(layers * (adapters + norms), s.get("lora").get("trainable_params_blocks").asLong(), "LoRA trains adapters and norms in the blocks");
        assertEquals(8 * layers * (adapters + norms), s.get("lora").get("optimizer_state_bytes_blocks").asLong());
        assertEquals(4 * layers * (adapters + norms), s.get("lora").get("gradient_bytes_blocks").asLong());
        // GaLore: moments of the projected gradient [r, max] plus the basis [min, r] per matrix (all have min = 32 here)
        long galore = 4L * (4 * (2L * r * c + c * r) + 3 * (2L * r * f + c * r)) + 8L * norms;
        assertEquals(layers * galore, s.get("galore").get("optimizer_state_bytes_blocks").asLong());
        assertEquals(params, s.get("galore").get("trainable_params").asLong(), "GaLore trains the full-rank model");
        assertTrue(s.get("lora").get("peak_rss_bytes").asLong() > 10_000_000L, "peak resident memory: " + s.get("lora").get("peak_rss_bytes"));
    }

    @Test
    void sigtermWritesACheckpointAtTheCurrentStepAndTheRunIsLockedWhileItTrains() throws Exception {
        Path data = TestRuns.shakespeareChars();
        Path cfg = TestRuns.tinyConfig(tmp, "gpt2");
        Path run = tmp.resolve("interrupted");
        Process child = startChild(train(cfg, data, run, "--set", "train.max_steps=100000", "--set", "checkpoint.every=0"));
        long deadline = System.currentTimeMillis() + 120_000;
        while (!(Files.exists(run.resolve("metrics.jsonl")) && rows(run).size() >= 15) && child.isAlive() && System.currentTimeMillis() < deadline) Thread.sleep(10);
        assertTrue(child.isAlive(), Files.readString(tmp.resolve("child.log")));
        // a second process on the same run folder is refused, and touches nothing (metrics.jsonl keeps its rows)
        int before = rows(run).size();
        dev.sprout.cli.CliRun.Outcome second = dev.sprout.cli.CliRun.run("train", "--out", run.toString(), "--resume", "--max-steps", "1"); // bounded, should the lock fail
        dev.sprout.cli.CliRun.assertUserError(second, "in use by another training process");
        assertTrue(rows(run).size() >= before, "the refused resume truncated metrics.jsonl");
        child.destroy(); // SIGTERM, as from Ctrl-C or a scheduler
        assertTrue(child.waitFor(60, TimeUnit.SECONDS));
        List<Path> ckpts = new Checkpoints(run.resolve("checkpoints"), 1).list();
        assertEquals(1, ckpts.size(), "checkpoint.every=0 writes only at the end or on a stop: " + Files.readString(tmp.resolve("child.log")));
        long last = rows(run).get(rows(run).size() - 1).get("step").asLong();
        assertEquals(last, Checkpoints.stepOf(ckpts.get(0)), "the checkpoint holds the last logged step: nothing is lost");
        assertFalse(MetricsLog.JSON.readTree(run.resolve("summary.json").toFile()).get("complete").asBoolean());
    }

    /** A checkpoint written before a config key existed (here train.precision) resumes when the run uses its default. */
    @Test
    void aCheckpointFromBeforeAKeyExistedResumes() throws Exception {
        Path data = TestRuns.shakespeareChars();
        Path run = tmp.resolve("older-key");
        assertEquals(0, Sprout.execute(train(TestRuns.tinyConfig(tmp, "gpt2"), data, run, "--max-steps", "2")));
        Checkpoints ckpts = new Checkpoints(run.resolve("checkpoints"), 9);
        Path file = ckpts.list().get(ckpts.list().size() - 1);
        Checkpoints.Loaded ck = Checkpoints.load(file);
        String config = ck.state().get("config").asText();
        String older = config.replaceAll("(?m)^  precision: .*\n", "");
        assertFalse(older.equals(config), "the checkpoint's config names train.precision");
        ck.state().put("config", older);
        Files.delete(file);
        ckpts.save(Checkpoints.stepOf(file), ck.tensors(), ck.state());
        assertEquals(0, Sprout.execute("train", "--out", run.toString(), "--resume", "--max-steps", "3"));
        assertEquals(3, rows(run).get(rows(run).size() - 1).get("step").asLong());
    }

    @Test
    void aTruncatedNewestCheckpointIsReportedAndTheOlderOneUsed() throws Exception {
        Path data = TestRuns.shakespeareChars();
        Path cfg = TestRuns.tinyConfig(tmp, "gpt2");
        Path straight = tmp.resolve("straight"), run = tmp.resolve("run");
        assertEquals(0, Sprout.execute(train(cfg, data, straight)));
        assertEquals(0, Sprout.execute(train(cfg, data, run, "--max-steps", "30")));
        Path newest = Checkpoints.fileFor(run.resolve("checkpoints"), 30);
        try (RandomAccessFile f = new RandomAccessFile(newest.toFile(), "rw")) {
            f.setLength(f.length() / 2);
        }
        assertEquals(0, Sprout.execute("train", "--out", run.toString(), "--resume"));
        List<JsonNode> a = rows(straight), b = rows(run);
        assertEquals(40, b.size());
        for (int i = 0; i < 40; i++) assertEquals(a.get(i).get("loss").asDouble(), b.get(i).get("loss").asDouble(), 0.0, "step " + (i + 1));
    }
}
