package dev.sprout.method;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sprout.config.ConfigLoader;
import dev.sprout.config.MethodConfig;
import dev.sprout.config.OptimConfig;
import dev.sprout.config.ModelConfig;
import dev.sprout.tensor.Tensors;
import dev.sprout.model.Transformer;
import dev.sprout.optim.AdamW;
import dev.sprout.subnet.SubnetExecutionTest;
import dev.sprout.subnet.SubnetPlan;
import dev.sprout.train.BlockSurgery;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** SwitchLoRA's initialisation, swaps, counterpart reset and freeze, and schedule. */
class SwitchLoraTest {
    static final OptimConfig OPT = new OptimConfig(1e-2, 0, 0, "constant", 0.9, 0.999, 1e-8, 0.0, 0, 1);

    static ModelConfig model(String family) {
        return ConfigLoader.load(null, List.of("model.family=" + family, "model.n_layer=2", "model.n_head=4",
                "model.n_kv_head=" + (family.equals("llama") ? 2 : 0), "model.d_model=32", "model.context=16")).model().resolve(40);
    }

    /** OPT with the defaults' weight decay: adapters must not feel it. */
    static final OptimConfig OPT_DECAY = new OptimConfig(1e-2, 0, 0, "constant", 0.9, 0.999, 1e-8, 0.1, 0, 1);

    static SwitchLora method(int rank, double interval0, int freezeSteps, boolean reset, boolean freeze, int totalSteps) {
        return method(rank, interval0, freezeSteps, reset, true, freeze, totalSteps);
    }

    static SwitchLora method(int rank, double interval0, int freezeSteps, boolean reset, boolean resetStep, boolean freeze, int totalSteps) {
        return new SwitchLora(new MethodConfig.Lora(rank, 1.0), new MethodConfig.Switchlora(interval0, 0.1, freezeSteps, reset, resetStep, freeze, true, "continuous"), 2, totalSteps, 5);
    }

    static float[] logits(Transformer model) {
        try (PointerScope s = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            return Tensors.toFloats(model.logits(SubnetExecutionTest.tokens(2, 16, 40, 5), SubnetPlan.full(2)));
        }
    }

    static double maxDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
        return d;
    }

    /** One training step as the trainer orders it: forward, backward, (no clipping), switch, AdamW. */
    static void step(SwitchLora m, Transformer model, AdamW opt, BlockSurgery surgery, long step) {
        try (PointerScope s = new PointerScope()) {
            model.lossAndBackward(SubnetExecutionTest.tokens(2, 16, 40, 300 + step), SubnetExecutionTest.tokens(2, 16, 40, 400 + step), SubnetPlan.full(2),
                    null, 1.0, Transformer.LOGIT_CHUNK_ELEMENTS);
            m.beforeUpdate(step, surgery);
            opt.step(1e-2);
            opt.zeroGrad();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama"})
    void theAdaptedModelStartsAsTheDenseInitialisation(String family) {
        Transformer dense = new Transformer(model(family), SubnetExecutionTest.CPU, 21), adapted = new Transformer(model(family), SubnetExecutionTest.CPU, 21);
        method(4, 40, 5, true, true, 100).setup(adapted);
        assertEquals(adapted.blockLinears().size(), adapted.adapters().size(), "every block linear is adapted");
        assertTrue(maxDiff(logits(dense), logits(adapted)) < 1e-5, "W - s B A + s B A = W: " + maxDiff(logits(dense), logits(adapted)));
        // s B A has nn.Linear's scale gain / sqrt(in) (methods.md 5.3): check it on the MLP's down projection [C, F]
        Transformer.Adapter down = adapted.adapters().get("blocks.0.mlp.down");
        float[] ba = Tensors.toFloats(org.bytedeco.pytorch.global.torch.mm(down.b(), down.a()).mul(new org.bytedeco.pytorch.Scalar(down.scale())));
        double sq = 0;
        for (float v : ba) sq += v * v;
        double std = Math.sqrt(sq / ba.length), want = 1 / Math.sqrt(3) / Math.sqrt(down.a().size(1));
        assertEquals(want, std, 0.15 * want, "element std of s B A");
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama"})
    void aSwapLeavesTheOutputUnchanged(String family) {
        Transformer model = new Transformer(model(family), SubnetExecutionTest.CPU, 22);
        SwitchLora m = method(4, 1e9, 0, true, false, 100); // a huge interval: no scheduled swaps, we swap by hand
        m.setup(model);
        AdamW opt = new AdamW(model.trainableParameters(), model.sliceAxes(), OPT);
        BlockSurgery surgery = new BlockSurgery(model, opt);
        for (long s = 0; s < 5; s++) step(m, model, opt, surgery, s); // A, B and W away from their initial values
        float[] before = logits(model);
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            for (SwitchLora.Layer l : layersOf(m)) {
                Transformer.Adapter ad = model.adapters().get(l.linear);
                float[] a0 = Tensors.toFloats(ad.a()), b0 = Tensors.toFloats(ad.b());
                SwitchSlots.Swaps[] sw = l.slots.choose(2, null); // two rows of A and two columns of B at once
                assertEquals(2, sw[0].size());
                m.swapA(l, ad, model, sw[0]);
                m.swapB(l, ad, model, sw[1]);
                assertFalse(Arrays.equals(a0, Tensors.toFloats(ad.a())), l.linear + ": A's rows changed");
                assertFalse(Arrays.equals(b0, Tensors.toFloats(ad.b())), l.linear + ": B's columns changed");
            }
        }
        double d = maxDiff(before, logits(model));
        assertTrue(d < 1e-5, "output moved by " + d);
    }

    /**
     * With weight decay 0.1 (the defaults') on every other matrix: the counterpart's moments are zeroed (its step counter
     * too, unless reset_step is false: the official option that keeps it), and it does not move at all for N steps.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void theCounterpartIsResetAndFrozenForNStepsWhileEverythingElseMoves(boolean resetStep) {
        Transformer model = new Transformer(model("gpt2"), SubnetExecutionTest.CPU, 23);
        int n = 3;
        SwitchLora m = method(4, 8, n, true, resetStep, true, 1000); // about 0.5 swaps per side, layer and step at first
        m.setup(model);
        AdamW opt = new AdamW(model.trainableParameters(), model.sliceAxes(), model.adapterParameters(), OPT_DECAY);
        BlockSurgery surgery = new BlockSurgery(model, opt);
        for (long s = 0; s < 3; s++) step(m, model, opt, surgery, s);
        SwitchLora.Layer l = layersOf(m).get(0);
        String bName = l.linear + ".lora_b";
        int[] held = l.slots.heldA.clone();
        long step = 3;
        // run until layer 0 swaps an A row, checking the state right after the switch, before AdamW
        int swapped = -1;
        float[] frozenCol = null;
        while (swapped < 0) {
            try (PointerScope s = new PointerScope()) {
                model.lossAndBackward(SubnetExecutionTest.tokens(2, 16, 40, 300 + step), SubnetExecutionTest.tokens(2, 16, 40, 400 + step), SubnetPlan.full(2),
                        null, 1.0, Transformer.LOGIT_CHUNK_ELEMENTS);
                m.beforeUpdate(step, surgery);
                for (int i = 0; i < held.length; i++) if (held[i] != l.slots.heldA[i]) swapped = i;
                if (swapped >= 0) {
                    AdamW.State st = opt.states().get(bName);
                    for (float v : Tensors.toFloats(st.m.select(1, swapped))) assertEquals(0f, v);
                    for (float v : Tensors.toFloats(st.v.select(1, swapped))) assertEquals(0f, v);
                    assertEquals(resetStep ? 0 : step, st.steps[swapped], "counterpart's step counter");
                    for (float v : Tensors.toFloats(model.param(bName).grad().select(1, swapped))) assertEquals(0f, v);
                    frozenCol = Tensors.toFloats(model.param(bName).select(1, swapped));
                }
                opt.step(1e-2);
                opt.zeroGrad();
            }
            step++;
            assertTrue(step < 200, "no swap in layer 0");
        }
        float[] rest = Tensors.toFloats(model.param(bName));
        for (int k = 1; k < n; k++) step(m, model, opt, surgery, step++); // the swap step was the first of N
        assertArrayEquals(frozenCol, Tensors.toFloats(model.param(bName).select(1, swapped)), "the counterpart does not move for N steps, decay included");
        assertFalse(Arrays.equals(rest, Tensors.toFloats(model.param(bName))), "the rest of B moves");
        step(m, model, opt, surgery, step++);
        assertFalse(Arrays.equals(frozenCol, Tensors.toFloats(model.param(bName).select(1, swapped))), "it trains again after N steps");
    }

    @Test
    void swapsPerStepFollowThePublishedScheduleInExpectation() {
        Transformer model = new Transformer(model("gpt2"), SubnetExecutionTest.CPU, 24);
        int total = 1500;
        SwitchLora m = method(8, 4, 0, true, false, total);
        m.setup(model);
        AdamW opt = new AdamW(model.trainableParameters(), model.sliceAxes(), OPT);
        BlockSurgery surgery = new BlockSurgery(model, opt);
        double expected = 0;
        int sides = 2 * model.adapters().size();
        for (long s = 0; s < total; s++) {
            m.beforeUpdate(s, surgery);
            expected += sides * m.expectedSwaps(s);
        }
        // rate(t) = 0.3^((t+1)/(0.1 T)): r / interval0 = 2 per side and layer at first, 0.6 at t = 0.1 T
        assertEquals(2 * 0.3, m.expectedSwaps((long) (0.1 * total) - 1), 1e-9);
        assertEquals(expected, m.swaps(), 0.03 * expected, "swaps over the run against the schedule's sum");
    }

    /**
     * A layer whose rank equals min(out, in) has no candidate beyond the r it holds: it never swaps or freezes (the
     * official code skips it), it still trains as LoRA, and start-up says so. Before the official walk, the candidate
     * search for such a layer never ended (the run hung before step 1).
     */
    @Test
    void aLayerWhoseRankIsItsSmallerSideTrainsWithoutSwitching() {
        Transformer model = new Transformer(model("gpt2"), SubnetExecutionTest.CPU, 25);
        SwitchLora m = method(32, 1, 2, true, true, 50); // d_model 32: every block linear has min(out, in) = 32
        m.setup(model);
        assertEquals(List.of("switchlora: method.lora.rank=32 equals min(out, in) of 12 of 12 adapted linears (blocks.0.attn.q, ...): their pools"
                + " hold no other candidate, so nothing is switched there (as in the official code); they train as LoRA with SwitchLoRA's"
                + " initialisation"), m.notes());
        AdamW opt = new AdamW(model.trainableParameters(), model.sliceAxes(), model.adapterParameters(), OPT);
        BlockSurgery surgery = new BlockSurgery(model, opt);
        float[] a0 = Tensors.toFloats(model.adapters().get("blocks.0.attn.q").a());
        for (long s = 0; s < 10; s++) step(m, model, opt, surgery, s); // an interval of 1: 32 swaps per side and step were it switchable
        assertEquals(0, m.swaps(), "swaps on layers with nothing to switch");
        for (SwitchLora.Layer l : layersOf(m)) {
            assertArrayEquals(new int[32], l.slots.frozenA, l.linear + ": frozen rows of A");
            assertArrayEquals(new int[32], l.slots.frozenB, l.linear + ": frozen columns of B");
        }
        assertFalse(Arrays.equals(a0, Tensors.toFloats(model.adapters().get("blocks.0.attn.q").a())), "the adapters train");
    }

    /** Training builds its AdamW with the adapters undecayed (and everything else of two or more dimensions decayed). */
    @Test
    void trainingNeverDecaysAdapters() {
        var cfg = ConfigLoader.load(null, List.of("model.n_layer=2", "model.d_model=32", "model.n_head=4", "model.context=16", "method.name=switchlora",
                "method.lora.rank=4", "optim.weight_decay=0.1"));
        var training = new dev.sprout.train.MethodTraining(cfg.withModel(cfg.model().resolve(40)), SubnetExecutionTest.CPU, null);
        int adapters = 0;
        for (var e : training.optimizer.states().entrySet()) {
            boolean adapter = e.getKey().endsWith(".lora_a") || e.getKey().endsWith(".lora_b");
            if (adapter) adapters++;
            assertEquals(!adapter && e.getValue().param.dim() >= 2, e.getValue().decay, e.getKey());
        }
        assertEquals(2 * training.model.adapters().size(), adapters);
    }

    static List<SwitchLora.Layer> layersOf(SwitchLora m) {
        return m.layers();
    }
}
