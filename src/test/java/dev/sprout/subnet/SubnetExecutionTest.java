package dev.sprout.subnet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sprout.config.ConfigLoader;
import dev.sprout.config.OptimConfig;
import dev.sprout.config.ModelConfig;
import dev.sprout.model.SliceLeaves;
import dev.sprout.tensor.Tensors;
import dev.sprout.model.Transformer;
import dev.sprout.optim.AdamW;
import dev.sprout.tensor.Slice;
import dev.sprout.subnet.SubnetPlan.LayerPlan;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Subnetworks run as smaller matmuls, and mean exactly the masked dense computation they stand for. Its fixtures serve other tests. */
public class SubnetExecutionTest {
    public static final Device CPU = new Device("cpu");

    public static ModelConfig config(String family) {
        var c = ConfigLoader.load(null, List.of("model.family=" + family, "model.n_layer=3", "model.n_head=4",
                "model.n_kv_head=" + (family.equals("llama") ? 2 : 0), "model.d_model=32", "model.context=16"));
        return c.model().resolve(40);
    }

    public static Tensor tokens(int b, int t, int vocab, long seed) {
        Random r = new Random(seed);
        long[] v = new long[b * t];
        for (int i = 0; i < v.length; i++) v[i] = r.nextInt(vocab);
        return Tensors.longTensor(v, CPU, b, t);
    }

    /** Layer 0 skipped, layer 1 with heads {1,3} and some neurons scaled, layer 2 full. */
    public static SubnetPlan partial(ModelConfig m) {
        int[] neurons = {0, 5, 6, 17, 40, 63, 100, m.ffDim() - 1};
        return new SubnetPlan(List.of(LayerPlan.SKIP, new LayerPlan(true, new int[]{1, 3}, neurons, 2.0, (double) m.ffDim() / neurons.length), LayerPlan.FULL));
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama"})
    void aPlanThatKeepsEverythingIsTheFullForwardBitForBit(String family) {
        ModelConfig m = config(family);
        Transformer model = new Transformer(m, CPU, 3);
        int[] allHeads = {0, 1, 2, 3};
        int[] allNeurons = new int[m.ffDim()];
        for (int i = 0; i < allNeurons.length; i++) allNeurons[i] = i;
        List<LayerPlan> explicit = new ArrayList<>();
        for (int l = 0; l < m.nLayer(); l++) explicit.add(new LayerPlan(true, allHeads, allNeurons, 1.0, 1.0));
        try (PointerScope s = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor x = tokens(2, 16, 40, 1);
            float[] full = Tensors.toFloats(model.logits(x, SubnetPlan.full(m.nLayer())));
            float[] plan = Tensors.toFloats(model.logits(x, new SubnetPlan(explicit)));
            assertTrue(Arrays.equals(full, plan), "bit-identical logits");
        }
    }

    /**
     * The same computation with zeros: a copy of the model whose dropped heads' output columns and dropped
     * neurons' down columns are zero, kept ones multiplied by the scale, skipped blocks' output projections zero.
     */
    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama"})
    void aPartialPlanEqualsTheMaskedDenseComputationAndItsGradientsStayInTheKeptSlices(String family) {
        ModelConfig m = config(family);
        Transformer model = new Transformer(m, CPU, 5), masked = new Transformer(m, CPU, 5);
        SubnetPlan plan = partial(m);
        int d = m.headDim();
        try (PointerScope s = new PointerScope()) {
            try (NoGradGuard ng = new NoGradGuard()) {
                for (int l = 0; l < m.nLayer(); l++) {
                    LayerPlan lp = plan.layers().get(l);
                    String p = "blocks." + l + ".";
                    Tensor o = masked.param(p + "attn.o.weight"), down = masked.param(p + "mlp.down.weight");
                    if (!lp.active()) {
                        o.zero_();
                        down.zero_();
                        if (!m.isLlama()) {
                            masked.param(p + "attn.o.bias").zero_();
                            masked.param(p + "mlp.down.bias").zero_();
                        }
                        continue;
                    }
                    if (lp.heads() != null) {
                        Tensor keep = torch.zeros(m.dModel());
                        for (int h : lp.heads()) keep.narrow(0, (long) h * d, d).fill_(new Scalar(lp.attnScale()));
                        o.mul_(keep.view(1, -1));
                    }
                    if (lp.neurons() != null) {
                        Tensor keep = torch.zeros(m.ffDim());
                        for (int n : lp.neurons()) keep.narrow(0, n, 1).fill_(new Scalar(lp.mlpScale()));
                        down.mul_(keep.view(1, -1));
                    }
                }
            }
            Tensor x = tokens(2, 16, 40, 2), y = tokens(2, 16, 40, 3);
            Tensor loss = model.loss(x, y, plan);
            Tensor ref = masked.loss(x, y, SubnetPlan.full(m.nLayer()));
            assertEquals(ref.item_double(), loss.item_double(), 1e-5, "loss");
            float[] a = Tensors.toFloats(model.logits(x, plan)), b = Tensors.toFloats(masked.logits(x, SubnetPlan.full(m.nLayer())));
            for (int i = 0; i < a.length; i++) assertEquals(b[i], a[i], 1e-5, "logit " + i);

            loss.backward();
            Map<String, Slice> slices = model.slices(plan);
            for (var e : model.parameters().entrySet()) {
                String name = e.getKey();
                Tensor g = e.getValue().grad();
                if (name.startsWith("blocks.0.")) {
                    assertFalse(g.defined(), name + ": a skipped block gets no gradient at all");
                    continue;
                }
                assertTrue(g.defined(), name);
                Slice sl = slices.get(name);
                if (sl == null) continue;
                Tensor outside = g.clone();
                outside.index_fill_(sl.axis(), Tensors.intIndex(sl.index(), CPU), new Scalar(0.0));
                assertEquals(0.0, outside.abs().sum().item_double(), 0.0, name + ": gradient outside the kept slices");
                assertTrue(g.abs().sum().item_double() > 0, name + ": the kept slices learn");
            }
            assertTrue(slices.containsKey("blocks.1.attn.o.weight") && slices.get("blocks.1.attn.o.weight").axis() == 1);
            assertEquals(2 * d, slices.get("blocks.1.attn.q.weight").index().length, "2 heads of d rows");
            if (m.isLlama()) assertEquals(2 * d, slices.get("blocks.1.attn.k.weight").index().length, "heads 1 and 3 read both KV groups");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama"})
    void maskedAdamWLeavesInactiveSlicesAndTheirStateBitIdentical(String family) {
        ModelConfig m = config(family);
        Transformer model = new Transformer(m, CPU, 7);
        AdamW opt = new AdamW(model.parameters(), model.sliceAxes(), new OptimConfig(1e-2, 0, 0, "constant", 0.9, 0.99, 1e-8, 0.1, 0, 1));
        try (PointerScope s = new PointerScope()) {
            // one full step first so that moments are non-zero everywhere
            model.loss(tokens(2, 16, 40, 4), tokens(2, 16, 40, 5), SubnetPlan.full(m.nLayer())).backward();
            opt.step(1e-2);
            opt.zeroGrad();
            Map<String, float[]> p0 = snapshot(model, opt, 0), m0 = snapshot(model, opt, 1), v0 = snapshot(model, opt, 2);
            Map<String, long[]> steps0 = new java.util.HashMap<>();
            opt.states().forEach((k, st) -> steps0.put(k, st.steps.clone()));

            SubnetPlan plan = partial(m);
            model.loss(tokens(2, 16, 40, 6), tokens(2, 16, 40, 7), plan).backward();
            Map<String, Slice> slices = model.slices(plan);
            opt.step(1e-2, slices);
            opt.zeroGrad();
            Map<String, float[]> p1 = snapshot(model, opt, 0), m1 = snapshot(model, opt, 1), v1 = snapshot(model, opt, 2);
            for (String name : model.parameters().keySet()) {
                AdamW.State st = opt.states().get(name);
                long[] shape = st.param.sizes().vec().get();
                Slice sl = slices.get(name);
                boolean skipped = name.startsWith("blocks.0.");
                for (int i = 0; i < p0.get(name).length; i++) {
                    boolean active = !skipped && (sl == null || contains(sl.index(), sl.axis() == 0 ? (int) (i / (shape.length > 1 ? shape[1] : 1)) : (int) (i % shape[1])));
                    if (!active) {
                        assertEquals(Float.floatToIntBits(p0.get(name)[i]), Float.floatToIntBits(p1.get(name)[i]), name + "[" + i + "] weight");
                        assertEquals(Float.floatToIntBits(m0.get(name)[i]), Float.floatToIntBits(m1.get(name)[i]), name + "[" + i + "] m");
                        assertEquals(Float.floatToIntBits(v0.get(name)[i]), Float.floatToIntBits(v1.get(name)[i]), name + "[" + i + "] v");
                    }
                }
                for (int k = 0; k < st.steps.length; k++) {
                    boolean ran = !skipped && (sl == null || contains(sl.index(), k));
                    assertEquals(steps0.get(name)[k] + (ran ? 1 : 0), st.steps[k], name + " counter " + k);
                }
                if (!skipped) assertFalse(Arrays.equals(p0.get(name), p1.get(name)), name + " moved");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama"})
    void sliceLeavesGiveTheSameMaskedUpdateWithoutFullSizeGradients(String family) {
        ModelConfig m = config(family);
        Transformer viaGraph = new Transformer(m, CPU, 9), viaLeaves = new Transformer(m, CPU, 9);
        OptimConfig oc = new OptimConfig(1e-2, 0, 0, "constant", 0.9, 0.99, 1e-8, 0.1, 0, 1);
        AdamW optGraph = new AdamW(viaGraph.parameters(), viaGraph.sliceAxes(), oc), optLeaves = new AdamW(viaLeaves.parameters(), viaLeaves.sliceAxes(), oc);
        SubnetPlan plan = partial(m);
        try (PointerScope s = new PointerScope()) {
            for (int step = 0; step < 3; step++) { // full, then the partial plan twice, so per-slice counters differ
                SubnetPlan p = step == 0 ? SubnetPlan.full(m.nLayer()) : plan;
                Tensor x = tokens(2, 16, 40, 30 + step), y = tokens(2, 16, 40, 40 + step);
                viaGraph.loss(x, y, p).backward();
                optGraph.step(1e-2, viaGraph.slices(p));
                optGraph.zeroGrad();

                SliceLeaves leaves = new SliceLeaves();
                viaLeaves.lossAndBackward(x, y, p, leaves, 0.5, Transformer.LOGIT_CHUNK_ELEMENTS); // two micro-batches of the same batch
                viaLeaves.lossAndBackward(x, y, p, leaves, 0.5, Transformer.LOGIT_CHUNK_ELEMENTS);
                Map<String, Slice> slices = viaLeaves.slices(p);
                for (String name : slices.keySet()) {
                    assertFalse(viaLeaves.param(name).grad().defined(), name + ": no full-size gradient for a partly-run parameter");
                }
                assertEquals(slices.keySet(), leaves.grads().keySet(), "one slice gradient per partly-run parameter");
                optLeaves.step(1e-2, slices, leaves.grads());
                optLeaves.zeroGrad();
            }
            for (String name : viaGraph.parameters().keySet()) {
                AdamW.State a = optGraph.states().get(name), b = optLeaves.states().get(name);
                assertArrayEquals(a.steps, b.steps, name + " counters");
                for (int which = 0; which < 3; which++) {
                    float[] fa = Tensors.toFloats(which == 0 ? a.param : which == 1 ? a.m : a.v), fb = Tensors.toFloats(which == 0 ? b.param : which == 1 ? b.m : b.v);
                    for (int i = 0; i < fa.length; i++) {
                        assertEquals(fa[i], fb[i], 1e-6f * Math.max(1f, Math.abs(fa[i])), name + "[" + i + "] " + (which == 0 ? "weight" : which == 1 ? "m" : "v"));
                    }
                }
            }
        }
    }

    private static boolean contains(int[] sorted, int v) {
        return Arrays.binarySearch(sorted, v) >= 0;
    }

    private static Map<String, float[]> snapshot(Transformer model, AdamW opt, int which) {
        Map<String, float[]> out = new java.util.HashMap<>();
        opt.states().forEach((k, st) -> out.put(k, Tensors.toFloats(which == 0 ? st.param : which == 1 ? st.m : st.v)));
        return out;
    }
}
