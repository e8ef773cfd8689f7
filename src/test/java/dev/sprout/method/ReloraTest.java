package dev.sprout.method;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sprout.config.MethodConfig;
import dev.sprout.tensor.Tensors;
import dev.sprout.model.Transformer;
import dev.sprout.optim.AdamW;
import dev.sprout.subnet.SubnetExecutionTest;
import dev.sprout.subnet.SubnetPlan;
import dev.sprout.train.BlockSurgery;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** ReLoRA's merge and restart. */
class ReloraTest {

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama"})
    void aRestartMergesBAIntoWKeepsTheOutputAndStartsTheAdaptersAfresh(String family) {
        Transformer model = new Transformer(SwitchLoraTest.model(family), SubnetExecutionTest.CPU, 31);
        Relora m = new Relora(new MethodConfig.Lora(4, 8.0), new MethodConfig.Relora(5, 2), 2, 7);
        m.setup(model);
        AdamW opt = new AdamW(model.trainableParameters(), model.sliceAxes(), SwitchLoraTest.OPT);
        BlockSurgery surgery = new BlockSurgery(model, opt);
        for (long s = 0; s < 5; s++) { // B starts at zero: train it away from zero first
            m.beforeStep(s, surgery);
            try (PointerScope scope = new PointerScope()) {
                model.lossAndBackward(SubnetExecutionTest.tokens(2, 16, 40, 300 + s), SubnetExecutionTest.tokens(2, 16, 40, 400 + s), SubnetPlan.full(2),
                        null, 1.0, Transformer.LOGIT_CHUNK_ELEMENTS);
                opt.step(1e-2);
                opt.zeroGrad();
            }
        }
        Transformer.Adapter ad = model.adapters().get("blocks.1.mlp.up");
        float[] before = SwitchLoraTest.logits(model), aBefore = Tensors.toFloats(ad.a()), wBefore = Tensors.toFloats(model.param(ad.linear() + ".weight"));
        assertTrue(SwitchLoraTest.maxDiff(Tensors.toFloats(ad.b()), new float[(int) ad.b().numel()]) > 1e-4, "B has moved from zero");

        m.beforeStep(5, surgery); // reset_every = 5: merge and restart

        float[] after = SwitchLoraTest.logits(model);
        assertTrue(SwitchLoraTest.maxDiff(before, after) < 1e-5, "W + s B A folded into W, B = 0: " + SwitchLoraTest.maxDiff(before, after));
        assertTrue(SwitchLoraTest.maxDiff(wBefore, Tensors.toFloats(model.param(ad.linear() + ".weight"))) > 1e-4, "W took the merge");
        assertTrue(SwitchLoraTest.maxDiff(aBefore, Tensors.toFloats(ad.a())) > 1e-3, "A is drawn afresh");
        for (Transformer.Adapter a : model.adapters().values()) {
            for (float v : Tensors.toFloats(a.b())) assertEquals(0f, v, a.linear() + ".lora_b");
            for (String p : new String[]{a.linear() + ".lora_a", a.linear() + ".lora_b"}) {
                AdamW.State st = opt.states().get(p);
                for (float v : Tensors.toFloats(st.m)) assertEquals(0f, v, p + " first moment");
                for (float v : Tensors.toFloats(st.v)) assertEquals(0f, v, p + " second moment");
                for (long c : st.steps) assertEquals(0, c, p + " step counter");
            }
        }
        assertEquals(5, opt.states().get("embed.tokens").steps[0], "the rest of the optimizer keeps its state");
        // the jagged schedule: warmup restarts after the reset (steps 5, 6 at 1/2, 2/2), full rate before it
        assertEquals(1.0, m.lrFactor(4), 0.0);
        assertEquals(0.5, m.lrFactor(5), 1e-12);
        assertEquals(1.0, m.lrFactor(6), 1e-12);
    }
}
