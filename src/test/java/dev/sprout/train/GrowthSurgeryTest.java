package dev.sprout.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sprout.config.ConfigLoader;
import dev.sprout.config.MethodConfig;
import dev.sprout.config.OptimConfig;
import dev.sprout.method.Incremental;
import dev.sprout.method.Stacking;
import dev.sprout.method.TrainingMethod;
import dev.sprout.config.ModelConfig;
import dev.sprout.tensor.Tensors;
import dev.sprout.model.Transformer;
import dev.sprout.optim.AdamW;
import dev.sprout.subnet.SubnetExecutionTest;
import dev.sprout.subnet.SubnetPlan;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Growth events (copy, zero-init, optimizer state) and freezing, on a 4-block model trained by hand. */
class GrowthSurgeryTest {
    static final OptimConfig OPT = new OptimConfig(1e-2, 0, 0, "constant", 0.9, 0.99, 1e-8, 0.1, 0, 1);

    static ModelConfig model(String family) {
        return ConfigLoader.load(null, List.of("model.family=" + family, "model.n_layer=4", "model.n_head=4",
                "model.n_kv_head=" + (family.equals("llama") ? 2 : 0), "model.d_model=32", "model.context=16")).model().resolve(40);
    }

    /** Steps [from, to) of a method on fresh random batches, as the trainer runs them (events, plan, backward, AdamW). */
    static void train(TrainingMethod method, Transformer model, AdamW opt, long from, long to) {
        BlockSurgery surgery = new BlockSurgery(model, opt);
        for (long step = from; step < to; step++) {
            method.beforeStep(step, surgery);
            try (PointerScope s = new PointerScope()) {
                SubnetPlan plan = method.plan(step);
                model.lossAndBackward(SubnetExecutionTest.tokens(2, 16, 40, 100 + step), SubnetExecutionTest.tokens(2, 16, 40, 200 + step), plan, null, 1.0,
                        Transformer.LOGIT_CHUNK_ELEMENTS);
                opt.step(1e-2, model.slices(plan));
                opt.zeroGrad();
            }
        }
    }

    static float[] logits(Transformer model, SubnetPlan plan) {
        try (PointerScope s = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            return Tensors.toFloats(model.logits(SubnetExecutionTest.tokens(2, 16, 40, 5), plan));
        }
    }

    static float[] floats(Tensor t) {
        return Tensors.toFloats(t);
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama"})
    void zeroInitialisedGrowthLeavesTheOutputUnchanged(String family) {
        for (String depths : List.of("2-4", "3-4", "1-2-4")) {
            for (boolean zeroInit : List.of(true, false)) {
                ModelConfig m = model(family);
                Transformer model = new Transformer(m, SubnetExecutionTest.CPU, 11);
                AdamW opt = new AdamW(model.parameters(), model.sliceAxes(), OPT);
                Stacking stacking = new Stacking(new MethodConfig.Stacking(depths, "copy", zeroInit, 1.0), 4, 30);
                long growth = 30 / depths.split("-").length * (depths.split("-").length - 1);
                train(stacking, model, opt, 0, growth); // the last growth happens at the start of step `growth`
                float[] before = logits(model, stacking.plan(growth - 1));
                stacking.beforeStep(growth, new BlockSurgery(model, opt));
                float[] after = logits(model, stacking.plan(growth));
                double maxDiff = 0;
                for (int i = 0; i < before.length; i++) maxDiff = Math.max(maxDiff, Math.abs(before[i] - after[i]));
                if (zeroInit) assertTrue(maxDiff <= 1e-6, depths + ": output moved by " + maxDiff);
                else assertTrue(maxDiff > 1e-3, depths + ": copies without zero-init change the function (" + maxDiff + ")");
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"gpt2, copy", "gpt2, reset", "llama, copy"})
    void copiedBlocksEqualTheirSourcesAtTheGrowthStep(String family, String state) {
        ModelConfig m = model(family);
        Transformer model = new Transformer(m, SubnetExecutionTest.CPU, 12);
        AdamW opt = new AdamW(model.parameters(), model.sliceAxes(), OPT);
        Stacking gradual = new Stacking(new MethodConfig.Stacking("2-3-4", state, false, 1.0), 4, 30);
        train(gradual, model, opt, 0, 20); // grows 2 -> 3 at step 10 (block 2 copies block 1), trains depth 3 until step 20
        gradual.beforeStep(20, new BlockSurgery(model, opt)); // 3 -> 4: block 3 copies the top block, 2
        for (String name : model.blockParameters(2)) {
            String copy = Transformer.sameInBlock(name, 2, 3);
            AdamW.State src = opt.states().get(name), dst = opt.states().get(copy);
            assertArrayEquals(floats(src.param), floats(dst.param), copy + " equals " + name);
            if (state.equals("copy")) {
                assertArrayEquals(floats(src.m), floats(dst.m), copy + " m");
                assertArrayEquals(floats(src.v), floats(dst.v), copy + " v");
                assertArrayEquals(src.steps, dst.steps, copy + " counters");
                assertEquals(20, dst.steps[0], copy + ": block 2's count (10 copied from block 1 at step 10, 10 of its own)");
            } else {
                for (float f : floats(dst.m)) assertEquals(0f, f);
                for (float f : floats(dst.v)) assertEquals(0f, f);
                for (long c : dst.steps) assertEquals(0, c);
            }
        }
        // the source itself had copied block 1 at step 10 and trained on since: it no longer equals block 1
        assertFalse(java.util.Arrays.equals(floats(model.param("blocks.1.mlp.up.weight")), floats(model.param("blocks.2.mlp.up.weight"))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"through-frozen", "cut"})
    void frozenBlocksAndTheirOptimizerStateAreBitIdenticalAcrossTheFreezingPhase(String gradients) {
        ModelConfig m = model("gpt2");
        Transformer model = new Transformer(m, SubnetExecutionTest.CPU, 13);
        AdamW opt = new AdamW(model.parameters(), model.sliceAxes(), OPT);
        Incremental inc = new Incremental(new MethodConfig.Incremental(2, true, gradients, 1.0), 4, 40);
        train(inc, model, opt, 0, 20); // stage 1: blocks 0-1, new-only then all
        assertEquals("2-new", inc.stage(20));
        assertEquals("2-all", inc.stage(30));
        java.util.Map<String, float[][]> before = new java.util.HashMap<>();
        java.util.Map<String, long[]> counters = new java.util.HashMap<>();
        opt.states().forEach((k, st) -> {
            before.put(k, new float[][]{floats(st.param), floats(st.m), floats(st.v)});
            counters.put(k, st.steps.clone());
        });
        train(inc, model, opt, 20, 30); // stage 2's first half: blocks 2-3 new, blocks 0-1 frozen
        for (var e : opt.states().entrySet()) {
            String name = e.getKey();
            AdamW.State st = e.getValue();
            boolean frozen = name.startsWith("blocks.0.") || name.startsWith("blocks.1.");
            boolean unreached = gradients.equals("cut") && name.equals("embed.positions"); // the cut graph stops above it
            float[][] now = {floats(st.param), floats(st.m), floats(st.v)};
            if (frozen || unreached) {
                for (int w = 0; w < 3; w++) assertArrayEquals(before.get(name)[w], now[w], name + " unchanged (" + w + ")");
                assertArrayEquals(counters.get(name), st.steps, name + " counters unchanged");
            } else {
                assertFalse(java.util.Arrays.equals(before.get(name)[0], now[0]), name + " trains");
                assertEquals(counters.get(name)[0] + 10, st.steps[0], name + " took 10 updates");
            }
        }
        train(inc, model, opt, 30, 31); // the second half trains them again
        assertFalse(java.util.Arrays.equals(before.get("blocks.0.attn.q.weight")[0], floats(model.param("blocks.0.attn.q.weight"))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama"})
    void continualTrainingStartsFromAFreshOptimizerState(String family) {
        Transformer model = new Transformer(model(family), SubnetExecutionTest.CPU, 14);
        AdamW opt = new AdamW(model.parameters(), model.sliceAxes(), OPT);
        Incremental inc = new Incremental(new MethodConfig.Incremental(2, false, "through-frozen", 0.5), 4, 40);
        assertEquals(20, inc.continualStart());
        train(inc, model, opt, 0, 20);
        assertTrue(opt.states().get("blocks.0.attn.q.weight").steps[0] == 20);
        assertEquals(10, opt.states().get("blocks.3.attn.q.weight").steps[0], "block 3 joined at step 10");
        train(inc, model, opt, 20, 21);
        assertEquals("full", inc.stage(20));
        opt.states().forEach((k, st) -> {
            for (long c : st.steps) assertEquals(1, c, k + ": one update since the reset");
        });
    }
}
