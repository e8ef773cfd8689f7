package dev.sprout.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sprout.config.ConfigLoader;
import dev.sprout.config.SproutConfig;
import dev.sprout.method.Methods;
import dev.sprout.tensor.Tensors;
import dev.sprout.model.Transformer;
import dev.sprout.subnet.SubnetExecutionTest;
import dev.sprout.subnet.SubnetPlan;
import dev.sprout.train.Checkpoints;
import dev.sprout.train.TestRuns;
import dev.sprout.train.Trainer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** export merges adapters into dense weights that sample reads and train --init-from starts from. */
class ExportTest {
    @TempDir
    Path tmp;

    /** The logits of a run folder's newest weights on a fixed batch, through the model its own method builds. */
    static float[] logits(Path run) {
        SproutConfig cfg = ConfigLoader.bind(ConfigLoader.readYaml(run.resolve("config.yaml")));
        Transformer model = new Transformer(cfg.model(), SubnetExecutionTest.CPU, cfg.seed());
        Methods.build(cfg).setup(model);
        Checkpoints.Loaded ck = new Checkpoints(run.resolve("checkpoints"), 9).latestIntact(System.err::println);
        try (PointerScope s = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            for (var e : model.parameters().entrySet()) Checkpoints.copyInto(ck, "param." + e.getKey(), e.getValue());
            return Tensors.toFloats(model.logits(SubnetExecutionTest.tokens(2, 32, (int) cfg.model().vocabSize(), 8), SubnetPlan.full(cfg.model().nLayer())));
        }
    }

    @Test
    void theMergedExportComputesWhatTheAdaptedRunComputesAndSeedsNewRuns() throws Exception {
        Path data = TestRuns.shakespeareChars();
        Path cfg = TestRuns.tinyConfig(tmp, "llama");
        Path run = tmp.resolve("switch"), export = tmp.resolve("dense");
        // swaps from the first steps on, so W itself has moved as well as A and B
        assertEquals(0, Sprout.execute("train", "--config", cfg.toString(), "--data", data.toString(), "--out", run.toString(), "--max-steps", "12",
                "--set", "method.name=switchlora", "--set", "method.lora.rank=4", "--set", "method.switchlora.interval0=10", "--set", "method.switchlora.freeze_steps=2"));
        assertEquals(0, Sprout.execute("export", "--run", run.toString(), "--out", export.toString()));
        float[] adapted = logits(run), dense = logits(export);
        double d = 0;
        for (int i = 0; i < adapted.length; i++) d = Math.max(d, Math.abs(adapted[i] - dense[i]));
        assertTrue(d < 1e-5, "merged export vs adapted model: " + d);

        PrintStream old = System.out;
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        System.setOut(new PrintStream(text, true));
        try {
            assertEquals(0, Sprout.execute("sample", "--run", export.toString(), "--prompt", "ROMEO:", "--tokens", "20"));
        } finally {
            System.setOut(old);
        }
        assertTrue(text.toString().startsWith("ROMEO:") && text.toString().length() > 20, text.toString());

        // a dense run from the export, and one straight from the adapted run, start from the same weights
        for (Path source : List.of(export, run)) {
            Path next = tmp.resolve("next-" + source.getFileName());
            try (Trainer t = Trainer.open(new Trainer.Options(cfg, data, next, List.of(), null, false, source), System.out, false)) {
                Transformer fromExport = new Transformer(t.config().model(), SubnetExecutionTest.CPU, 1);
                Checkpoints.Loaded ck = new Checkpoints(export.resolve("checkpoints"), 9).latestIntact(System.err::println);
                try (PointerScope s = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
                    for (var e : fromExport.parameters().entrySet()) {
                        Checkpoints.copyInto(ck, "param." + e.getKey(), e.getValue());
                        float[] want = Tensors.toFloats(e.getValue()), got = Tensors.toFloats(t.model().param(e.getKey()));
                        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-6f, e.getKey() + " from " + source.getFileName());
                    }
                }
            }
        }
        CliRun.Outcome wrong = CliRun.run("train", "--config", cfg.toString(), "--data", data.toString(), "--out", tmp.resolve("bad").toString(),
                "--set", "model.d_model=64", "--init-from", export.toString());
        assertEquals(2, wrong.code());
        assertTrue(wrong.err().contains("--init-from") && wrong.err().contains("d_model"), wrong.err());
    }
}
