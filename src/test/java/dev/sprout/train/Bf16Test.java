package dev.sprout.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sprout.cli.Sprout;
import dev.sprout.config.ConfigLoader;
import dev.sprout.config.SproutConfig;
import dev.sprout.data.BatchSampler;
import dev.sprout.data.TokenDataset;
import dev.sprout.model.Transformer;
import dev.sprout.optim.AdamW;
import dev.sprout.subnet.SubnetExecutionTest;
import dev.sprout.subnet.SubnetPlan;
import dev.sprout.tensor.Autocast;
import dev.sprout.tensor.Tensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Training in bfloat16 (train.precision: bf16): the same loss and gradients as fp32 within bf16's precision, fp32 master weights, exact resume. */
class Bf16Test {
    @TempDir
    Path tmp;

    /**
     * One batch's loss and every gradient in bf16 against fp32 on the same weights: the loss within 1% and each gradient
     * within 5% of its own norm (relative L2). bf16 keeps 8 bits of mantissa (a relative rounding of 2^-9 = 0.2% per
     * value), and the errors of a few layers of matmuls add up; the gradients stay fp32 tensors.
     */
    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama"})
    void aBf16StepMatchesFp32WithinBf16Precision(String family) throws Exception {
        TokenDataset ds = TokenDataset.open(TestRuns.shakespeareChars());
        SproutConfig cfg = ConfigLoader.load(TestRuns.tinyConfig(tmp, family), List.of());
        Transformer model = new Transformer(cfg.model().resolve(ds.vocabSize()), SubnetExecutionTest.CPU, 3);
        long[] x = new long[8 * 32], y = new long[8 * 32];
        new BatchSampler(ds, 8, 32, 5).next(x, y);
        List<float[]> grads32 = new ArrayList<>(), grads16 = new ArrayList<>();
        double loss32 = lossAndGrads(model, x, y, "fp32", grads32), loss16 = lossAndGrads(model, x, y, "bf16", grads16);
        assertEquals(loss32, loss16, 0.01 * loss32, "loss");
        assertTrue(loss32 != loss16, "bf16 really ran in bf16 (the loss is not fp32's to the last bit)");
        int i = 0;
        for (var e : model.parameters().entrySet()) {
            float[] a = grads32.get(i), b = grads16.get(i++);
            double diff = 0, norm = 0;
            for (int j = 0; j < a.length; j++) {
                diff += (a[j] - b[j]) * (double) (a[j] - b[j]);
                norm += a[j] * (double) a[j];
            }
            assertTrue(Math.sqrt(diff) <= 0.05 * Math.sqrt(norm) + 1e-6, e.getKey() + ": relative error " + Math.sqrt(diff / Math.max(norm, 1e-30)));
            assertEquals(torch.ScalarType.Float.value, e.getValue().scalar_type().value, e.getKey() + " stays fp32");
        }
    }

    private static double lossAndGrads(Transformer model, long[] x, long[] y, String precision, List<float[]> grads) {
        try (PointerScope s = new PointerScope()) {
            double loss;
            try (Autocast ac = Autocast.of(precision, model.device())) {
                loss = model.lossAndBackward(Tensors.longTensor(x, model.device(), 8, 32), Tensors.longTensor(y, model.device(), 8, 32),
                        SubnetPlan.full(model.config().nLayer()), null, 1.0, Transformer.LOGIT_CHUNK_ELEMENTS);
            }
            for (Tensor p : model.parameters().values()) {
                assertEquals(torch.ScalarType.Float.value, p.grad().scalar_type().value, "gradients are fp32");
                grads.add(Tensors.toFloats(p.grad()));
                p.mutable_grad().reset();
            }
            return loss;
        }
    }

    /** Every method trains a few steps in bf16: finite losses, and fp32 weights and optimizer state at the end. */
    @ParameterizedTest
    @ValueSource(strings = {"baseline", "est", "raptr", "pld", "stochastic_depth", "incremental", "stacking", "lora", "switchlora", "relora", "galore"})
    void everyMethodTrainsInBf16(String method) throws Exception {
        Path data = TestRuns.shakespeareChars(), cfg = TestRuns.tinyConfig(tmp, "llama"), run = tmp.resolve(method);
        List<String> args = new ArrayList<>(List.of("train", "--config", cfg.toString(), "--data", data.toString(), "--out", run.toString(),
                "--set", "train.precision=bf16", "--set", "train.max_steps=12", "--set", "train.eval_every=6", "--set", "method.name=" + method,
                "--set", "method.lora.rank=4", "--set", "method.galore.rank=4", "--set", "method.galore.update_every=5", "--set", "method.relora.reset_every=5",
                "--set", "method.switchlora.interval0=10", "--set", "method.incremental.stages=2", "--set", "method.stacking.depths=1-2"));
        assertEquals(0, Sprout.execute(args.toArray(String[]::new)));
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            JsonNode r = MetricsLog.JSON.readTree(line);
            assertTrue(Double.isFinite(r.get("loss").asDouble()), method + ": " + line);
        }
        Checkpoints.Loaded ck = new Checkpoints(run.resolve("checkpoints"), 2).latestIntact(m -> {});
        ck.tensors().forEach((name, t) -> {
            if (name.startsWith("param.") || name.startsWith("adam.m.") || name.startsWith("adam.v.")) {
                assertEquals(torch.ScalarType.Float.value, t.scalar_type().value, name + " is saved in fp32");
            }
        });
    }

    /** A bf16 run stopped at a checkpoint and resumed gives the uninterrupted run's loss at every step, bit for bit. */
    @Test
    void aBf16RunResumesExactly() throws Exception {
        Path data = TestRuns.shakespeareChars(), cfg = TestRuns.tinyConfig(tmp, "gpt2");
        Path straight = tmp.resolve("straight"), stopped = tmp.resolve("stopped");
        String[] sets = {"--set", "train.precision=bf16", "--set", "train.max_steps=40"};
        assertEquals(0, Sprout.execute(concat(new String[]{"train", "--config", cfg.toString(), "--data", data.toString(), "--out", straight.toString()}, sets)));
        assertEquals(0, Sprout.execute(concat(new String[]{"train", "--config", cfg.toString(), "--data", data.toString(), "--out", stopped.toString(), "--max-steps", "20"}, sets)));
        assertEquals(0, Sprout.execute("train", "--out", stopped.toString(), "--resume"));
        List<String> a = Files.readAllLines(straight.resolve("metrics.jsonl")), b = Files.readAllLines(stopped.resolve("metrics.jsonl"));
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(MetricsLog.JSON.readTree(a.get(i)).get("loss").asDouble(), MetricsLog.JSON.readTree(b.get(i)).get("loss").asDouble(), 0.0, "loss at step " + (i + 1));
        }
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
