package dev.sprout.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sprout.config.ConfigLoader;
import dev.sprout.config.MethodConfig;
import dev.sprout.config.OptimConfig;
import dev.sprout.data.BatchSampler;
import dev.sprout.data.TokenDataset;
import dev.sprout.method.Est;
import dev.sprout.config.ModelConfig;
import dev.sprout.tensor.Tensors;
import dev.sprout.model.Transformer;
import dev.sprout.optim.AdamW;
import dev.sprout.subnet.SubnetExecutionTest;
import dev.sprout.subnet.SubnetPlan;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** One optimizer step over micro-batches equals the step over their concatenation. */
class TrainStepTest {
    static final OptimConfig OPT = new OptimConfig(1e-2, 0, 0, "constant", 0.9, 0.999, 1e-8, 0.0, 0, 1);

    /**
     * Three micro-batches of 2 against one batch of 6 (the sampler hands out the same windows either way), with sampled
     * heads and neurons: in the masked mode the gathered slice leaves must outlive the micro-batch that gathered them
     * and accumulate the later micro-batches' gradients.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void accumulatedMicroBatchesEqualOneLargeBatch(boolean masked) throws IOException {
        TokenDataset ds = TokenDataset.open(TestRuns.shakespeareChars());
        ModelConfig mc = ConfigLoader.load(null, List.of("model.family=llama", "model.n_layer=2", "model.n_head=4", "model.n_kv_head=2",
                "model.d_model=32", "model.context=16")).model().resolve(ds.vocabSize());
        SubnetPlan plan = new Est(new MethodConfig.Est(1.0, 0.0, 1.0, 0.5, 0.5, 1, 1, true), mc, Integer.MAX_VALUE, 3).plan(0);
        Transformer accumulated = new Transformer(mc, SubnetExecutionTest.CPU, 5), whole = new Transformer(mc, SubnetExecutionTest.CPU, 5);
        TrainStep micro = new TrainStep(accumulated, new AdamW(accumulated.parameters(), accumulated.sliceAxes(), OPT), 3, 2, 16, 0.0, masked);
        TrainStep one = new TrainStep(whole, new AdamW(whole.parameters(), whole.sliceAxes(), OPT), 1, 6, 16, 0.0, masked);
        BatchSampler a = new BatchSampler(ds, 2, 16, 11), b = new BatchSampler(ds, 6, 16, 11);
        for (int step = 0; step < 2; step++) {
            double la = micro.run(plan, 1e-2, a).loss(), lb = one.run(plan, 1e-2, b).loss();
            assertTrue(Math.abs(la - lb) < 1e-5, "loss " + la + " vs " + lb);
        }
        double worst = 0;
        for (String name : whole.parameters().keySet()) {
            float[] p = Tensors.toFloats(accumulated.param(name)), q = Tensors.toFloats(whole.param(name));
            for (int i = 0; i < p.length; i++) worst = Math.max(worst, Math.abs(p[i] - q[i]));
        }
        assertTrue(worst < 1e-5, "parameters after two steps differ by " + worst);
    }

    /**
     * The method's hook (SwitchLoRA's switch) runs after clipping and before AdamW, as the official order has it: it sees
     * gradients already clipped to the threshold, and what it does to them is what AdamW applies.
     */
    @org.junit.jupiter.api.Test
    void theMethodsHookRunsAfterClippingAndBeforeTheUpdate() throws IOException {
        TokenDataset ds = TokenDataset.open(TestRuns.shakespeareChars());
        ModelConfig mc = ConfigLoader.load(null, List.of("model.n_layer=1", "model.n_head=2", "model.d_model=16", "model.context=8")).model().resolve(ds.vocabSize());
        Transformer model = new Transformer(mc, SubnetExecutionTest.CPU, 5);
        double clip = 1e-3;
        TrainStep step = new TrainStep(model, new AdamW(model.parameters(), model.sliceAxes(), OPT), 1, 2, 8, clip, false);
        java.util.Map<String, float[]> before = new java.util.HashMap<>();
        model.parameters().forEach((n, t) -> before.put(n, Tensors.toFloats(t)));
        double[] seen = {-1};
        TrainStep.Result r = step.run(SubnetPlan.full(1), 1e-2, new BatchSampler(ds, 2, 8, 3), () -> {
            double sq = 0;
            for (var t : model.parameters().values()) {
                double n = t.grad().norm().item_double();
                sq += n * n;
                t.grad().zero_(); // the hook's change must be what AdamW sees
            }
            seen[0] = Math.sqrt(sq);
        });
        assertTrue(r.gradNorm() > 10 * clip, "the raw gradient norm " + r.gradNorm() + " exceeds the threshold");
        assertTrue(Math.abs(seen[0] - clip) < 1e-6, "the hook saw the clipped norm: " + seen[0]);
        model.parameters().forEach((n, t) -> org.junit.jupiter.api.Assertions.assertArrayEquals(before.get(n), Tensors.toFloats(t), n + " moved"));
    }
}
