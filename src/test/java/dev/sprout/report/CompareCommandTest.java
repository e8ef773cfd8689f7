package dev.sprout.report;

import static dev.sprout.cli.CliRun.assertUserError;
import static dev.sprout.cli.CliRun.run;

import dev.sprout.cli.CliRun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sprout.cli.Sprout;
import dev.sprout.train.TestRuns;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `sprout compare` through the command line: user errors, --report-only on hand-written runs, and one real comparison. */
class CompareCommandTest {
    @TempDir
    Path tmp;


    private Path file(String name, String text) throws IOException {
        Path p = tmp.resolve(name);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
        return p;
    }

    @Test
    void badArgumentsAreOneLineErrors() throws IOException {
        Path a = file("a/baseline.yaml", ""), b = file("b/baseline.yaml", ""), est = file("est.yaml", "");
        String out = tmp.resolve("out").toString();
        assertUserError(run("compare", "--out", out), "--config");
        assertUserError(run("compare", "--config", a.toString(), "--config", tmp.resolve("nope.yaml").toString(), "--out", out), "nope.yaml");
        assertUserError(run("compare", "--config", a.toString(), "--config", b.toString(), "--out", out), "same base name 'baseline'");
        assertUserError(run("compare", "--config", a.toString(), "--config", est.toString(), "--out", out, "--seeds", "1,x"), "--seeds");
        assertUserError(run("compare", "--config", a.toString(), "--config", est.toString(), "--out", out, "--seeds", "1,1"), "repeated");
        assertUserError(run("compare", "--config", a.toString(), "--config", est.toString(), "--out", out, "--seeds", ""), "--seeds");
        assertUserError(run("compare", "--config", a.toString(), "--config", est.toString(), "--out", out, "--seeds", "-1"), "--seeds");
        assertUserError(run("compare", "--config", a.toString(), "--config", est.toString(), "--out", out, "--seeds", "1,2", "--set", "seed=3"), "seed=3");
        assertUserError(run("compare", "--config", a.toString(), "--config", est.toString(), "--out", out, "--max-steps", "0"), "--max-steps");
        assertUserError(run("compare", "--config", a.toString(), "--config", est.toString(), "--out", out, "--scale-steps", "0"), "--scale-steps");
        assertUserError(run("compare", "--config", a.toString(), "--config", est.toString(), "--out", out, "--scale-steps", "0.5", "--set", "train.max_steps=9"),
                "conflicts with --scale-steps");
        assertUserError(run("compare", "--config", a.toString(), "--config", file("bad.yaml", "model:\n  n_layers: 2\n").toString(), "--out", out), "model.n_layers");
        assertUserError(run("compare", "--config", a.toString(), "--config", est.toString(), "--out", out, "--report-only"), "no runs");
        assertFalse(Files.exists(tmp.resolve("out").resolve("baseline")), "a rejected comparison trains nothing");
    }

    /** Every run is checked against the data before the first one trains: a bad last config fails at once, nothing trained. */
    @Test
    void aConfigThatCannotRunOnTheDataFailsBeforeAnythingTrains() throws IOException {
        Path data = TestRuns.shakespeareChars(), tiny = TestRuns.tinyConfig(tmp, "gpt2");
        Path baseline = file("v/baseline.yaml", Files.readString(tiny));
        // four layers' worth of path lengths for a two-layer model: only the model resolved from the data shows it
        Path raptr = file("v/raptr.yaml", Files.readString(tiny) + "method:\n  name: raptr\n  raptr:\n    path_lengths: 2-3-4\n");
        Path out = tmp.resolve("checked");
        CliRun.Outcome o = run("compare", "--config", baseline.toString(), "--config", raptr.toString(), "--data", data.toString(), "--out", out.toString(),
                "--max-steps", "5", "--set", "train.eval_every=2");
        assertUserError(o, "raptr: method.raptr.path_lengths");
        assertFalse(Files.exists(out.resolve("baseline")), "the baseline did not train first");
    }

    @Test
    void reportOnlyReadsTheRunFoldersNamedAfterConfigsAndSeeds() throws IOException {
        Path a = file("cfg/baseline.yaml", ""), e = file("cfg/est.yaml", "");
        Path out = tmp.resolve("cmp");
        CompareReportTest.baseline(2.5, 2.2, 2.0).seed(1).write(out.resolve("baseline-seed1"));
        CompareReportTest.method(2.9, 2.4, 2.1, 1.9).seed(1).write(out.resolve("est-seed1"));
        CompareReportTest.baseline(2.6, 2.4, 2.2).seed(2).write(out.resolve("baseline-seed2"));
        CompareReportTest.method(2.9, 2.5, 2.2, 2.0).seed(2).write(out.resolve("est-seed2"));
        // one --config may take several files, as a shell's brace expansion --config cfg/{baseline,est}.yaml gives them
        CliRun.Outcome o = run("compare", "--config", a.toString(), e.toString(), "--out", out.toString(), "--seeds", "1, 2", "--report-only");
        assertEquals(0, o.code(), o.err());
        String md = Files.readString(out.resolve("report.md"));
        assertTrue(md.contains("| est | est | 1.9500 ± 0.0707 | 2.5500 ± 0.0707 | -0.6000 ± 0.0000 |"), md);
        assertTrue(md.contains("| est | 40 | 10.24 ± 0.00 | 0.500 ± 0.000 | 0.500 ± 0.000 | 0.800 ± 0.000 |"), md);
        assertTrue(md.contains("sprout compare --config " + a + " --config " + e + " --out " + out + " --seeds 1,2 --report-only"), md);
        assertTrue(md.contains("rebuilt from existing run folders"), md);
        assertTrue(o.out().contains("| est | est |") && o.out().contains("- **est**: 0.50x FLOPs"), "the verdicts and tables go to the console too: " + o.out());
        for (String plot : CompareReport.PLOTS) CompareReportTest.assertPng(out.resolve(plot));
        String html = Files.readString(out.resolve(HtmlReport.FILE));
        assertTrue(html.contains("<strong>est</strong>: 0.50x FLOPs") && html.contains("src=\"data:image/png;base64,"), html);
        assertFalse(Files.exists(out.resolve(HtmlReport.FILE + ".tmp")), "written through a temporary file, renamed");
    }

    /** One seed at a time into one --out: each run folder is named by its seed; a single-seed folder named without it (older Sprout) is still found. */
    @Test
    void aSingleSeedsFoldersAreNamedByTheSeed() throws IOException {
        Path a = file("cfg/baseline.yaml", ""), e = file("cfg/est.yaml", "");
        Path out = tmp.resolve("one-seed");
        CompareReportTest.baseline(2.5, 2.2, 2.0).seed(3).write(out.resolve("baseline-seed3"));
        CompareReportTest.method(2.9, 2.4, 2.1, 1.9).seed(3).write(out.resolve("est")); // named as before, for seed 3
        CliRun.Outcome three = run("compare", "--config", a.toString(), e.toString(), "--out", out.toString(), "--seeds", "3", "--report-only");
        assertEquals(0, three.code(), three.err());
        assertTrue(Files.readString(out.resolve("report.md")).contains("| est | est | 1.9000 |"), Files.readString(out.resolve("report.md")));
        CompareReportTest.baseline(2.6, 2.4, 2.2).seed(4).write(out.resolve("baseline-seed4"));
        CliRun.Outcome four = run("compare", "--config", a.toString(), e.toString(), "--out", out.toString(), "--seeds", "4", "--report-only");
        assertEquals(0, four.code(), four.err());
        String md = Files.readString(out.resolve("report.md"));
        assertFalse(md.contains("1.9000"), "seed 3's est is not seed 4's: " + md);
    }

    /** --scale-steps shortens each config by the same factor, so configs of different lengths keep their ratio. */
    @Test
    void scaleStepsMultipliesEachConfigsOwnLength() throws IOException {
        Path data = TestRuns.shakespeareChars();
        Path tiny = TestRuns.tinyConfig(tmp, "gpt2"); // train.max_steps: 40
        Path baseline = withSteps("configs/baseline.yaml", tiny, 40);
        Path longer = withSteps("configs/longer.yaml", tiny, 60);
        Path out = tmp.resolve("scaled");
        CliRun.Outcome o = run("compare", "--config", baseline.toString(), "--config", longer.toString(), "--data", data.toString(),
                "--out", out.toString(), "--scale-steps", "0.25", "--set", "train.eval_every=8");
        assertEquals(0, o.code(), o.err() + o.out());
        assertEquals(10, dev.sprout.train.MetricsLog.read(out.resolve("baseline").resolve("metrics.jsonl")).size());
        assertEquals(15, dev.sprout.train.MetricsLog.read(out.resolve("longer").resolve("metrics.jsonl")).size());
        String longerConfig = Files.readString(out.resolve("longer").resolve("config.yaml"));
        assertTrue(longerConfig.contains("max_steps: 15"), longerConfig);
        // every step count scales with the run: evaluations (8 -> 2), warmup (5 -> 1), checkpoints (10 -> 3), PLD's decay per step (x4)
        assertTrue(longerConfig.contains("eval_every: 2") && longerConfig.contains("warmup_steps: 1") && longerConfig.contains("every: 3")
                && longerConfig.contains("gamma: 0.004"), longerConfig);
        assertTrue(o.err().contains("compare: warning: longer evaluates 7 time(s) in 15 steps")
                && o.err().contains("compare: warning: baseline evaluates 5 time(s) in 10 steps"), "fewer than 20 evaluations are said: " + o.err());
        assertTrue(Files.readString(out.resolve("report.md")).contains("--scale-steps 0.25"));
    }

    /** --set train.max_steps gives every config the same steps: said when the configs' own lengths differ, not when they agree. */
    @Test
    void settingMaxStepsOnConfigsOfDifferentLengthsWarns() throws IOException {
        Path data = TestRuns.shakespeareChars();
        Path tiny = TestRuns.tinyConfig(tmp, "gpt2"); // train.max_steps: 40
        Path baseline = withSteps("steps/baseline.yaml", tiny, 40);
        Path longer = withSteps("steps/longer.yaml", tiny, 60);
        Path same = withSteps("steps/same.yaml", tiny, 40);
        List<String> common = List.of("--data", data.toString(), "--set", "train.max_steps=2", "--set", "train.eval_every=1");

        List<String> differ = new ArrayList<>(List.of("compare", "--config", baseline.toString(), longer.toString(), "--out", tmp.resolve("differ").toString()));
        differ.addAll(common);
        CliRun.Outcome o = run(differ.toArray(String[]::new));
        assertEquals(0, o.code(), o.err() + o.out());
        assertTrue(o.err().contains("warning: --set train.max_steps=2 gives every config the same steps, but the configs set their own (baseline 40, longer 60)"), o.err());
        assertEquals(2, dev.sprout.train.MetricsLog.read(tmp.resolve("differ").resolve("longer").resolve("metrics.jsonl")).size());

        List<String> agree = new ArrayList<>(List.of("compare", "--config", baseline.toString(), same.toString(), "--out", tmp.resolve("agree").toString(),
                "--no-tensorboard"));
        agree.addAll(common);
        CliRun.Outcome quiet = run(agree.toArray(String[]::new));
        assertEquals(0, quiet.code(), quiet.err() + quiet.out());
        assertFalse(quiet.err().contains("warning"), quiet.err());

        // every run folder of a comparison gets its TensorBoard events file, unless --no-tensorboard
        for (String name : List.of("baseline", "longer")) assertEquals(1, eventFiles(tmp.resolve("differ").resolve(name)), name);
        for (String name : List.of("baseline", "same")) assertEquals(0, eventFiles(tmp.resolve("agree").resolve(name)), name);
        assertTrue(Files.readString(tmp.resolve("agree").resolve("report.md")).contains("--no-tensorboard"), "the report's command line keeps the switch");
    }

    private static long eventFiles(Path run) throws IOException {
        try (var files = Files.list(run)) {
            return files.filter(f -> f.getFileName().toString().startsWith("events.out.tfevents.")).count();
        }
    }

    /** The tiny config (train.max_steps: 40) with its own length set to {@code steps}, written at {@code path}. */
    private Path withSteps(String path, Path tiny, int steps) throws IOException {
        return file(path, Files.readString(tiny).replace("max_steps: 40", "max_steps: " + steps));
    }

    static String estConfig(Path tiny) throws IOException {
        return Files.readString(tiny) + """
                method:
                  name: est
                  est:
                    stage1_fraction: 0.3
                    stage2_fraction: 0.3
                """;
    }

    /** Two tiny configs trained for real, 20 steps each; then run again: everything is skipped and the report rebuilt. */
    @Test
    void comparesTwoRealRunsAndResumes() throws IOException {
        Path data = TestRuns.shakespeareChars();
        Path tiny = TestRuns.tinyConfig(tmp, "gpt2");
        Path baseline = file("configs/baseline.yaml", Files.readString(tiny));
        Path est = file("configs/est.yaml", estConfig(tiny));
        Path out = tmp.resolve("cmp");
        List<String> args = new ArrayList<>(List.of("compare", "--config", baseline.toString(), "--config", est.toString(),
                "--data", data.toString(), "--out", out.toString(), "--max-steps", "20", "--set", "train.eval_every=2"));
        CliRun.Outcome first = run(args.toArray(String[]::new));
        assertEquals(0, first.code(), first.err() + first.out());
        assertTrue(first.out().contains("compare: warmed up with 3 untimed step(s) of baseline"), first.out());
        assertTrue(first.out().indexOf("warmed up") < first.out().indexOf("compare: run 1/2"), "the warm-up comes before the first run: " + first.out());
        assertTrue(first.out().contains("compare: run 1/2 baseline -> " + out.resolve("baseline")), first.out());
        assertTrue(first.out().contains("compare: run 2/2 est -> " + out.resolve("est")), first.out());
        for (String run : List.of("baseline", "est")) {
            List<JsonNode> rows = dev.sprout.train.MetricsLog.read(out.resolve(run).resolve("metrics.jsonl"));
            assertEquals(20, rows.size(), run + " trained 20 steps");
        }
        String md = Files.readString(out.resolve("report.md"));
        assertTrue(md.contains("| baseline | 20 |"), md);
        assertTrue(md.contains("| est | 20 |"), md);
        assertTrue(md.contains("1 → 2 @ 13"), "EST's stage 1 covers 30% of train.max_steps=40 (steps 0-11), so row 13 is the first of stage 2: " + md);
        for (String plot : CompareReport.PLOTS) CompareReportTest.assertPng(out.resolve(plot));
        assertTrue(Files.isRegularFile(out.resolve(HtmlReport.FILE)));
        RunResult e = RunResult.read("est", null, out.resolve("est"));
        RunResult b = RunResult.read("baseline", null, out.resolve("baseline"));
        assertTrue(e.flops() < b.flops(), "EST's subnetwork steps cost fewer FLOPs");

        // the warm-up changed nothing: the same config trained alone gives the same losses, bit for bit
        Path alone = tmp.resolve("alone");
        assertEquals(0, run("train", "--config", baseline.toString(), "--data", data.toString(), "--out", alone.toString(), "--max-steps", "20",
                "--set", "train.eval_every=2").code());
        List<JsonNode> inCompare = dev.sprout.train.MetricsLog.read(out.resolve("baseline").resolve("metrics.jsonl")),
                trainedAlone = dev.sprout.train.MetricsLog.read(alone.resolve("metrics.jsonl"));
        for (int i = 0; i < 20; i++) assertEquals(trainedAlone.get(i).get("loss").asDouble(), inCompare.get(i).get("loss").asDouble(), 0.0, "step " + (i + 1));

        CliRun.Outcome again = run(args.toArray(String[]::new));
        assertEquals(0, again.code(), again.err());
        assertFalse(again.out().contains("warmed up"), "nothing to train, nothing to warm up: " + again.out());
        assertTrue(again.out().contains("compare: run 1/2 baseline -> " + out.resolve("baseline") + ": already at step 20 (--max-steps 20), skipped"), again.out());
        assertEquals(20, dev.sprout.train.MetricsLog.read(out.resolve("est").resolve("metrics.jsonl")).size());

        // a longer --max-steps resumes both runs from their checkpoints
        args.set(args.indexOf("--max-steps") + 1, "25");
        CliRun.Outcome longer = run(args.toArray(String[]::new));
        assertEquals(0, longer.code(), longer.err());
        assertTrue(longer.out().contains("compare: run 2/2 est -> " + out.resolve("est") + " (resuming)"), longer.out());
        assertEquals(25, dev.sprout.train.MetricsLog.read(out.resolve("est").resolve("metrics.jsonl")).size());

        // held-out evaluation: with the training data itself, each run's held-out loss is its final val loss
        List<String> heldOut = new ArrayList<>(args);
        heldOut.addAll(List.of("--report-only", "--eval-data", data.toString()));
        CliRun.Outcome withEval = run(heldOut.toArray(String[]::new));
        assertEquals(0, withEval.code(), withEval.err());
        String report = Files.readString(out.resolve("report.md"));
        double baselineVal = RunResult.read("baseline", null, out.resolve("baseline")).finalValLoss();
        assertTrue(report.contains("## Held-out data") && report.contains(String.format(java.util.Locale.ROOT, "| baseline | 1 | %.4f |", baselineVal)), report);
        assertTrue(Files.isRegularFile(out.resolve("est").resolve("heldout.json")), "kept beside the run");
        Path bytes = tmp.resolve("bytes");
        dev.sprout.data.Prepare.run(dev.sprout.data.PrepareOptions.of(List.of(TestRuns.SHAKESPEARE), "byte", bytes).withMaxChars(100_000));
        List<String> wrong = new ArrayList<>(args);
        wrong.addAll(List.of("--eval-data", bytes.toString()));
        assertUserError(run(wrong.toArray(String[]::new)), "--eval-data: " + bytes + " was prepared with another tokenizer than --data (tokenizer char against byte)");

        // a changed config is refused rather than silently mixed into the comparison
        Files.writeString(est, estConfig(tiny).replace("lr: 3.0e-3", "lr: 1.0e-3"));
        assertUserError(run(args.toArray(String[]::new)), "optim.lr");
    }
}
