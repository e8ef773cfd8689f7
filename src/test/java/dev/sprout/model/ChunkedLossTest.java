package dev.sprout.model;

import dev.sprout.tensor.Tensors;
import dev.sprout.config.ModelConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sprout.subnet.SubnetExecutionTest;
import dev.sprout.subnet.SubnetPlan;
import java.util.HashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The chunked LM head and loss (which never builds the [B*T, V] logits) give the loss and every gradient of the
 * plain graph that does, for tied (GPT-2) and untied (Llama) heads, a partial subnetwork plan, chunks that do not
 * divide the rows, and a gradient scale (gradient accumulation).
 */
class ChunkedLossTest {
    @ParameterizedTest
    @CsvSource({"gpt2, 1", "gpt2, 7", "llama, 5", "llama, 32", "gpt2, 1000"})
    void chunkedLossAndGradientsEqualThePlainGraph(String family, int rowsPerChunk) {
        ModelConfig m = SubnetExecutionTest.config(family);
        Transformer model = new Transformer(m, SubnetExecutionTest.CPU, 11);
        SubnetPlan plan = SubnetExecutionTest.partial(m);
        long chunkElements = (long) rowsPerChunk * m.vocabSize();
        double scale = 0.5;
        try (PointerScope s = new PointerScope()) {
            Tensor x = SubnetExecutionTest.tokens(2, 16, m.vocabSize(), 21), y = SubnetExecutionTest.tokens(2, 16, m.vocabSize(), 22);
            Tensor ref = model.loss(x, y, plan);
            ref.mul(Tensors.s(scale)).backward();
            double refLoss = ref.item_double();
            Map<String, float[]> refGrads = grads(model);
            clearGrads(model);

            double loss = model.lossAndBackward(x, y, plan, null, scale, chunkElements);
            assertEquals(refLoss, loss, 1e-6 * Math.abs(refLoss), "loss");
            Map<String, float[]> got = grads(model);
            assertEquals(refGrads.keySet(), got.keySet(), "the same parameters get gradients (skipped blocks none)");
            for (String name : refGrads.keySet()) {
                float[] a = refGrads.get(name), b = got.get(name);
                double max = 0;
                for (float v : a) max = Math.max(max, Math.abs(v));
                for (int i = 0; i < a.length; i++) {
                    assertEquals(a[i], b[i], 1e-5 * Math.max(max, 1e-3), name + "[" + i + "]");
                }
            }
            assertTrue(refGrads.containsKey("embed.tokens"), "the embedding (and the tied head) has a gradient");

            try (NoGradGuard ng = new NoGradGuard()) {
                assertEquals(refLoss, model.meanLoss(x, y, plan, chunkElements), 1e-6 * Math.abs(refLoss), "meanLoss");
            }
        }
    }

    private static Map<String, float[]> grads(Transformer model) {
        Map<String, float[]> out = new HashMap<>();
        model.parameters().forEach((k, p) -> {
            Tensor g = p.grad();
            if (g.defined()) out.put(k, Tensors.toFloats(g));
        });
        return out;
    }

    private static void clearGrads(Transformer model) {
        for (Tensor p : model.parameters().values()) {
            Tensor g = p.mutable_grad();
            if (g.defined()) g.reset();
        }
    }
}
