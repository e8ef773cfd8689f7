package dev.sprout.model;

import dev.sprout.tensor.Tensors;
import dev.sprout.config.ModelConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sprout.subnet.SubnetPlan;
import dev.sprout.subnet.SubnetPlan.LayerPlan;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The forward pass, loss and every gradient against a float64 PyTorch reference
 * (scripts/golden/make_golden.py, committed results in src/test/resources/golden/).
 */
class GoldenParityTest {
    static JsonNode golden(String name) throws IOException {
        try (InputStream in = GoldenParityTest.class.getResourceAsStream("/golden/" + name)) {
            return new ObjectMapper().readTree(in);
        }
    }

    static Transformer load(JsonNode g) {
        JsonNode c = g.get("config");
        boolean llama = c.get("family").asText().equals("llama");
        ModelConfig cfg = new ModelConfig(c.get("family").asText(), c.get("n_layer").asInt(), c.get("n_head").asInt(),
                c.get("n_kv_head").asInt(), c.get("d_model").asInt(), c.get("d_ff").asInt(), 64, c.get("context").asInt(), 0,
                c.get("vocab_size").asInt(), "auto", c.get("norm_eps").asDouble(), llama ? c.get("rope_theta").asDouble() : 10000, 0.02);
        cfg.validate();
        Transformer m = new Transformer(cfg.resolve(cfg.vocabSize()), new Device("cpu"), 0);
        assertEquals(g.get("params").size(), m.parameters().size(), "parameter count");
        try (NoGradGuard ng = new NoGradGuard()) {
            m.parameters().forEach((name, p) -> {
                JsonNode t = g.get("params").get(name);
                assertTrue(t != null, "golden file lacks " + name);
                p.copy_(tensor(t));
            });
        }
        return m;
    }

    static Tensor tensor(JsonNode t) {
        float[] data = new float[t.get("data").size()];
        for (int i = 0; i < data.length; i++) data[i] = (float) t.get("data").get(i).asDouble();
        long[] shape = new long[t.get("shape").size()];
        for (int i = 0; i < shape.length; i++) shape[i] = t.get("shape").get(i).asLong();
        return torch.tensor(data).view(shape);
    }

    static Tensor ids(JsonNode rows) {
        int b = rows.size(), t = rows.get(0).size();
        long[] v = new long[b * t];
        for (int i = 0; i < b; i++) for (int j = 0; j < t; j++) v[i * t + j] = rows.get(i).get(j).asLong();
        return Tensors.longTensor(v, new Device("cpu"), b, t);
    }

    static void assertClose(JsonNode expected, Tensor actual, double tol, String what) {
        float[] a = Tensors.toFloats(actual);
        JsonNode e = expected.get("data");
        assertEquals(e.size(), a.length, what + " size");
        double scale = 0;
        for (int i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(e.get(i).asDouble()));
        for (int i = 0; i < a.length; i++) {
            double diff = Math.abs(a[i] - e.get(i).asDouble());
            assertTrue(diff <= tol * Math.max(1, scale), what + "[" + i + "]: " + a[i] + " vs " + e.get(i).asDouble());
        }
    }

    private void check(String file, SubnetPlan plan, JsonNode expectLoss, JsonNode expectGrads, JsonNode expectLogits) throws IOException {
        JsonNode g = golden(file);
        Transformer m = load(g);
        try (PointerScope scope = new PointerScope()) {
            Tensor idx = ids(g.get("idx")), tgt = ids(g.get("targets"));
            SubnetPlan p = plan == null ? SubnetPlan.full(m.config().nLayer()) : plan;
            if (expectLogits != null) assertClose(expectLogits, m.logits(idx, p), 2e-5, "logits");
            Tensor loss = m.loss(idx, tgt, p);
            assertEquals(expectLoss.asDouble(), loss.item_double(), 2e-6, "loss");
            loss.backward();
            for (var e : m.parameters().entrySet()) {
                Tensor grad = e.getValue().grad();
                JsonNode want = expectGrads.get(e.getKey());
                if (!grad.defined()) {
                    // a skipped block gets no gradient at all; the reference must then be exactly zero
                    for (JsonNode v : want.get("data")) assertEquals(0.0, v.asDouble(), 0.0, e.getKey() + " should not take part");
                    continue;
                }
                assertClose(want, grad, 2e-5, "grad " + e.getKey());
            }
        }
    }

    @Test
    void gpt2MatchesReference() throws IOException {
        JsonNode g = golden("gpt2_tiny.json");
        check("gpt2_tiny.json", null, g.get("loss"), g.get("grads"), g.get("logits"));
    }

    @Test
    void llamaWithGroupedQueryAttentionMatchesReference() throws IOException {
        JsonNode g = golden("llama_tiny.json");
        check("llama_tiny.json", null, g.get("loss"), g.get("grads"), g.get("logits"));
    }

    @Test
    void llamaSubnetworkMatchesReference() throws IOException {
        JsonNode g = golden("llama_tiny.json");
        JsonNode p = g.get("partial");
        int[] heads = new ObjectMapper().convertValue(p.get("heads"), int[].class);
        int[] neurons = new ObjectMapper().convertValue(p.get("neurons"), int[].class);
        SubnetPlan plan = new SubnetPlan(List.of(LayerPlan.SKIP,
                new LayerPlan(true, heads, neurons, p.get("attn_scale").asDouble(), p.get("mlp_scale").asDouble())));
        check("llama_tiny.json", plan, p.get("loss"), p.get("grads"), null);
    }

    /**
     * GPT-2 (with biases) under the golden's plans: a kept block scaled as x + s f(x) with s on its output biases too
     * (layer dropping), and sampled heads and neurons whose sums are scaled before the biases (EST), also combined.
     */
    @ParameterizedTest
    @ValueSource(strings = {"branch", "width"})
    void gpt2SubnetworkWithBiasesMatchesReference(String name) throws IOException {
        JsonNode g = golden("gpt2_tiny.json");
        JsonNode p = g.get("plans").get(name);
        List<LayerPlan> layers = new java.util.ArrayList<>();
        ObjectMapper om = new ObjectMapper();
        for (JsonNode l : p.get("layers")) {
            if (l.get("skip").asBoolean()) {
                layers.add(LayerPlan.SKIP);
                continue;
            }
            int[] heads = l.get("heads").isNull() ? null : om.convertValue(l.get("heads"), int[].class);
            int[] neurons = l.get("neurons").isNull() ? null : om.convertValue(l.get("neurons"), int[].class);
            layers.add(new LayerPlan(true, heads, neurons, l.get("attn_scale").asDouble(), l.get("mlp_scale").asDouble(), l.get("branch_scale").asDouble(), false));
        }
        check("gpt2_tiny.json", new SubnetPlan(layers), p.get("loss"), p.get("grads"), null);
    }
}
