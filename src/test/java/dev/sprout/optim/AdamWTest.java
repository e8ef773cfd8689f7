package dev.sprout.optim;

import dev.sprout.tensor.Slice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sprout.config.OptimConfig;
import dev.sprout.tensor.Tensors;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

class AdamWTest {
    static JsonNode golden() throws IOException {
        return dev.sprout.model.GoldenParityTestAccess.golden("adamw.json");
    }

    @Test
    void matchesTorchAdamWTrajectory() throws IOException {
        JsonNode g = golden();
        Map<String, Tensor> params = new LinkedHashMap<>();
        for (String n : new String[]{"p0", "p1"}) params.put(n, dev.sprout.model.GoldenParityTestAccess.tensor(g.get("init").get(n)).clone().set_requires_grad(true));
        OptimConfig cfg = new OptimConfig(g.get("lr").asDouble(), 0, 0, "constant", g.get("betas").get(0).asDouble(),
                g.get("betas").get(1).asDouble(), g.get("eps").asDouble(), g.get("weight_decay").get("p0").asDouble(), 0, 1);
        AdamW opt = new AdamW(params, cfg);
        assertTrue(opt.states().get("p0").decay);
        assertFalse(opt.states().get("p1").decay, "1-D tensors get no weight decay");
        for (int s = 0; s < g.get("grads").size(); s++) {
            for (String n : params.keySet()) params.get(n).mutable_grad().put(dev.sprout.model.GoldenParityTestAccess.tensor(g.get("grads").get(s).get(n)));
            opt.step(cfg.lr());
            opt.zeroGrad();
            for (String n : params.keySet()) {
                float[] got = Tensors.toFloats(params.get(n));
                JsonNode want = g.get("after").get(s).get(n).get("data");
                for (int i = 0; i < got.length; i++) assertEquals(want.get(i).asDouble(), got[i], 2e-6, n + "[" + i + "] after step " + (s + 1));
            }
        }
        assertEquals(5, opt.states().get("p0").steps[0]);
    }

    /**
     * Per-row and per-column step counters under masked updates and resets (the state subnetwork steps and SwitchLoRA
     * leave), against torch.optim.AdamW in float64 with each row or column a parameter of its own (adamw_slices.json).
     */
    @Test
    void slicedUpdatesWithMixedCountersMatchTorchAdamW() throws IOException {
        JsonNode g = dev.sprout.model.GoldenParityTestAccess.golden("adamw_slices.json");
        Map<String, Tensor> params = new LinkedHashMap<>();
        Map<String, Integer> axes = new LinkedHashMap<>();
        for (String n : new String[]{"w", "u"}) {
            params.put(n, dev.sprout.model.GoldenParityTestAccess.tensor(g.get("init").get(n)).clone().set_requires_grad(true));
            axes.put(n, g.get("axes").get(n).asInt());
        }
        assertEquals(0.0, g.get("weight_decay").get("u").asDouble(), "u is the undecayed one");
        OptimConfig cfg = new OptimConfig(g.get("lr").asDouble(), 0, 0, "constant", g.get("betas").get(0).asDouble(),
                g.get("betas").get(1).asDouble(), g.get("eps").asDouble(), g.get("weight_decay").get("w").asDouble(), 0, 1);
        AdamW opt = new AdamW(params, axes, java.util.Set.of("u"), cfg);
        int k = 0;
        for (JsonNode op : g.get("ops")) {
            k++;
            if (op.get("op").asText().equals("reset")) {
                int[] index = new com.fasterxml.jackson.databind.ObjectMapper().convertValue(op.get("index"), int[].class);
                String n = op.get("param").asText();
                opt.resetState(n, new Slice(axes.get(n), index), op.get("counters").asBoolean());
                continue;
            }
            Map<String, Slice> slices = new LinkedHashMap<>();
            op.get("slices").fields().forEachRemaining(e ->
                    slices.put(e.getKey(), new Slice(axes.get(e.getKey()), new com.fasterxml.jackson.databind.ObjectMapper().convertValue(e.getValue(), int[].class))));
            for (String n : params.keySet()) params.get(n).mutable_grad().put(dev.sprout.model.GoldenParityTestAccess.tensor(op.get("grads").get(n)));
            opt.step(cfg.lr(), slices);
            opt.zeroGrad();
            for (String n : params.keySet()) {
                float[] got = Tensors.toFloats(params.get(n));
                JsonNode want = op.get("after").get(n).get("data");
                for (int i = 0; i < got.length; i++) assertEquals(want.get(i).asDouble(), got[i], 3e-6, n + "[" + i + "] after op " + k);
                long[] steps = opt.states().get(n).steps;
                for (int i = 0; i < steps.length; i++) assertEquals(op.get("steps").get(n).get(i).asLong(), steps[i], n + " counter " + i + " after op " + k);
            }
        }
    }

    @Test
    void parametersWithoutGradientAreNotTouched() {
        Map<String, Tensor> params = new LinkedHashMap<>();
        params.put("used", torch.ones(2, 2).set_requires_grad(true));
        params.put("skipped", torch.ones(2, 2).set_requires_grad(true));
        AdamW opt = new AdamW(params, new OptimConfig(0.1, 0, 0, "constant", 0.9, 0.99, 1e-8, 0.1, 0, 1));
        params.get("used").mutable_grad().put(torch.ones(2, 2));
        opt.step(0.1);
        float[] skipped = Tensors.toFloats(params.get("skipped"));
        for (float v : skipped) assertEquals(1.0f, v, 0f, "no update and no weight decay without a gradient");
        assertEquals(0, opt.states().get("skipped").steps[0]);
        assertEquals(1, opt.states().get("used").steps[0]);
        assertTrue(Tensors.toFloats(params.get("used"))[0] < 1.0f);
    }

    @Test
    void scheduleWarmsUpThenDecaysToTheFloor() {
        LrSchedule s = new LrSchedule(1e-3, 1e-4, 100, 2000, "cosine");
        assertEquals(1e-5, s.at(0), 1e-12);
        assertEquals(1e-3, s.at(99), 1e-12);
        assertEquals(1e-3, s.at(100), 1e-12);
        assertEquals(5.5e-4, s.at(1050), 1e-9);
        assertEquals(1e-4, s.at(2000), 1e-12);
        assertEquals(1e-4, s.at(5000), 1e-12, "past the horizon the rate stays at the floor");
        assertEquals(5.5e-4, new LrSchedule(1e-3, 1e-4, 100, 2000, "linear").at(1050), 1e-9);
        assertEquals(1e-3, new LrSchedule(1e-3, 1e-4, 100, 2000, "constant").at(1500), 1e-12);
    }
}
