package dev.sprout.method;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sprout.config.ConfigLoader;
import dev.sprout.config.MethodConfig;
import dev.sprout.config.ModelConfig;
import dev.sprout.model.Transformer;
import dev.sprout.optim.AdamW;
import dev.sprout.subnet.SubnetExecutionTest;
import dev.sprout.train.BlockSurgery;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/**
 * SwitchLoRA's swap schedule against an independent transcription of the official code (scripts/golden/switchlora_trace.py,
 * committed in src/test/resources/golden/switchlora_trace.json): fed the same stochastic-rounding draws, Sprout must swap
 * the same slots for the same candidates at the same steps, and freeze the same slots.
 */
class SwitchLoraTraceTest {
    static JsonNode golden() throws IOException {
        try (InputStream in = SwitchLoraTraceTest.class.getResourceAsStream("/golden/switchlora_trace.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    /** Sprout's trace of one golden scenario, in the golden's event format. */
    static List<String> sproutTrace(JsonNode sc) {
        JsonNode mj = sc.get("model");
        List<String> set = new ArrayList<>(List.of("model.family=" + mj.get("family").asText(), "model.n_layer=" + mj.get("n_layer").asInt(),
                "model.d_model=" + mj.get("d_model").asInt(), "model.n_head=" + mj.get("n_head").asInt(), "model.n_kv_head=" + mj.get("n_kv_head").asInt(),
                "model.context=8"));
        if (mj.has("d_ff")) set.add("model.d_ff=" + mj.get("d_ff").asInt());
        ModelConfig mc = ConfigLoader.load(null, set).model().resolve(20);
        Transformer model = new Transformer(mc, SubnetExecutionTest.CPU, 3);
        int steps = sc.get("steps").asInt();
        SwitchLora m = new SwitchLora(new MethodConfig.Lora(sc.get("rank").asInt(), 1.0),
                new MethodConfig.Switchlora(sc.get("interval0").asDouble(), sc.get("ratio").asDouble(), sc.get("freeze_steps").asInt(),
                        true, true, true, true, "continuous"), mc.nLayer(), steps, 7);
        m.setup(model);
        List<Integer> pools = new ArrayList<>();
        for (String linear : model.blockLinears()) {
            Tensor w = model.param(linear + ".weight");
            pools.add((int) Math.min(w.size(0), w.size(1)));
        }
        assertEquals(sc.get("pools").toString(), pools.toString().replace(" ", ""), "the golden's linears are this model's");
        Iterator<JsonNode> u = sc.get("uniforms").iterator();
        m.uniforms(() -> u.next().asDouble());
        List<String> events = new ArrayList<>();
        m.trace(new SwitchLora.Trace() {
            @Override
            public void swap(SwitchLora.Swap s) {
                events.add("[\"swap\"," + s.step() + "," + s.layer() + ",\"" + s.side() + "\"," + s.slot() + "," + s.candidate() + "]");
            }

            @Override
            public void frozen(long step, int layer, int[] a, int[] b) {
                events.add("[\"frozen\"," + step + "," + layer + "," + ints(a) + "," + ints(b) + "]");
            }
        });
        AdamW opt = new AdamW(model.trainableParameters(), model.sliceAxes(), model.adapterParameters(), SwitchLoraTest.OPT);
        BlockSurgery surgery = new BlockSurgery(model, opt);
        for (long s = 0; s < steps; s++) m.beforeUpdate(s, surgery);
        assertTrue(!u.hasNext(), "every golden draw was used");
        return events;
    }

    private static String ints(int[] a) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < a.length; i++) b.append(i == 0 ? "" : ",").append(a[i]);
        return b.append(']').toString();
    }

    @Test
    void theSwapScheduleEqualsTheOfficialCodes() throws IOException {
        for (JsonNode sc : golden().get("scenarios")) {
            List<String> want = new ArrayList<>();
            for (JsonNode e : sc.get("events")) want.add(e.toString());
            List<String> got = sproutTrace(sc);
            for (int i = 0; i < Math.min(want.size(), got.size()); i++) {
                assertEquals(want.get(i), got.get(i), sc.get("name").asText() + ": event " + i + " differs");
            }
            assertEquals(want.size(), got.size(), sc.get("name").asText() + ": number of events");
            assertTrue(want.stream().filter(e -> e.startsWith("[\"swap\"")).count() > 100, "the scenario swaps often");
        }
    }

    /**
     * The two sides never act on the same slot within N steps: after A's row i swaps at step t, B's column i (frozen
     * until t + N - 1, its moments just reset) must not swap at any step t' with |t - t'| < N, and vice versa. Checked
     * on the schedule alone, for even and odd ranks, N from 1 to 5 and rates up to every slot every step.
     */
    @Test
    void theTwoSidesNeverActOnOneSlotWithinNSteps() {
        SplittableRandom rng = new SplittableRandom(11);
        for (int rank = 2; rank <= 9; rank++) {
            for (int n = 1; n <= 5; n++) {
                SwitchSlots slots = new SwitchSlots(rank, rank + 3, false, null);
                List<long[]> swapsA = new ArrayList<>(), swapsB = new ArrayList<>();
                for (long t = 0; t < 400; t++) {
                    int wanted = rng.nextInt(rank + 1);
                    SwitchSlots.Swaps[] sw = slots.choose(wanted, rng);
                    slots.freezeCounterparts(sw, n);
                    for (int s : sw[0].slots()) swapsA.add(new long[]{t, s});
                    for (int s : sw[1].slots()) swapsB.add(new long[]{t, s});
                    int[][] frozen = slots.tickFrozen();
                    for (int s : sw[0].slots()) assertTrue(!contains(frozen[0], s), "r=" + rank + " N=" + n + ": A swapped its frozen row " + s + " at " + t);
                    for (int s : sw[1].slots()) assertTrue(!contains(frozen[1], s), "r=" + rank + " N=" + n + ": B swapped its frozen column " + s + " at " + t);
                }
                for (long[] a : swapsA) {
                    for (long[] b : swapsB) {
                        assertTrue(a[1] != b[1] || Math.abs(a[0] - b[0]) >= n,
                                "r=" + rank + " N=" + n + ": slot " + a[1] + " swapped by A at " + a[0] + " and by B at " + b[0]);
                    }
                }
                assertTrue(swapsA.size() > 40, "r=" + rank + " N=" + n + ": the schedule swaps");
            }
        }
    }

    private static boolean contains(int[] a, int v) {
        for (int x : a) if (x == v) return true;
        return false;
    }
}
