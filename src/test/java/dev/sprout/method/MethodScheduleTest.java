package dev.sprout.method;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sprout.config.ConfigException;
import dev.sprout.config.ConfigLoader;
import dev.sprout.config.SproutConfig;
import dev.sprout.subnet.SubnetPlan;
import dev.sprout.subnet.SubnetPlan.LayerPlan;
import dev.sprout.train.FlopsAccountant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Plans are shared per step, stages fall where configured, and schedules cost what their formulas say. */
class MethodScheduleTest {
    static SproutConfig cfg(String... sets) {
        List<String> all = new ArrayList<>(List.of("model.n_layer=8", "model.n_head=4", "model.d_model=64", "model.context=64", "train.max_steps=2000"));
        all.addAll(List.of(sets));
        SproutConfig c = ConfigLoader.load(null, all);
        return c.withModel(c.model().resolve(65));
    }

    /** FLOPs of the method's plans over the whole run, as a fraction of the full model's. */
    static double measuredFraction(SproutConfig c) {
        TrainingMethod m = Methods.build(c);
        FlopsAccountant acc = new FlopsAccountant(c.model(), 2);
        double full = acc.train(SubnetPlan.full(c.model().nLayer()), 1, 64).total(), sum = 0;
        for (long s = 0; s < c.train().maxSteps(); s++) sum += acc.train(m.plan(s), 1, 64).total();
        return sum / (full * c.train().maxSteps());
    }

    /** Per-step cost pieces of the test model (per sequence of 64 tokens): head, and attention and MLP per block. */
    static double[] pieces(SproutConfig c) {
        FlopsAccountant.Breakdown f = new FlopsAccountant(c.model(), 2).train(SubnetPlan.full(8), 1, 64);
        return new double[]{f.head(), (f.attnProj() + f.attnScores()) / 8, f.mlp() / 8};
    }

    @Test
    void estHitsItsConfiguredFlopsFraction() {
        SproutConfig c = cfg("method.name=est", "method.est.stage1_fraction=0.3", "method.est.stage2_fraction=0.3");
        double[] p = pieces(c);
        double e = p[0], a = p[1], mlp = p[2], full = e + 8 * (a + mlp);
        double stage1 = (e + 4 * (0.5 * a + 0.5 * mlp)) / full, stage2 = (e + 8 * (0.5 * a + 0.5 * mlp)) / full;
        double expected = 0.3 * stage1 + 0.3 * stage2 + 0.4;
        assertEquals(expected, measuredFraction(c), 0.02 * expected);
        // the method spec's GPT-2-small calibration table: 0.3/0.3 at 0.5 rates saves about 27% there
        assertTrue(expected < 0.75, "defaults save at least 25% on this model: " + expected);
    }

    @Test
    void raptrPldAndStochasticDepthHitTheirExpectedFractions() {
        SproutConfig r = cfg("method.name=raptr", "method.raptr.path_lengths=4-5-6-8");
        double[] p = pieces(r);
        double e = p[0], b = p[1] + p[2], full = e + 8 * b;
        double raptr = 0;
        for (double len : new double[]{4, 5, 6, 8}) raptr += (e + len * b) / full / 4;
        assertEquals(raptr, measuredFraction(r), 0.02 * raptr);
        assertEquals(raptr, measuredFraction(cfg("method.name=raptr", "method.raptr.path_lengths=4-5-6-8", "method.raptr.sampling=fixed")), 0.02 * raptr);

        SproutConfig sd = cfg("method.name=stochastic_depth", "method.stochastic_depth.keep=0.6");
        double sdExpected = (e + (2 + 0.6 * 6) * b) / full;
        assertEquals(sdExpected, measuredFraction(sd), 0.02 * sdExpected);

        SproutConfig pld = cfg("method.name=pld");
        double pldExpected = 0;
        for (int t = 0; t < 2000; t++) {
            double theta = 0.5 * Math.exp(-0.001 * t) + 0.5, kept = 0;
            for (int l = 1; l <= 8; l++) kept += 1 - (l / 8.0) * (1 - theta);
            pldExpected += (e + kept * b) / full / 2000;
        }
        assertEquals(pldExpected, measuredFraction(pld), 0.02 * pldExpected);
    }

    @Test
    void everyConsumerOfAStepDrawsTheSamePlan() {
        for (String method : List.of("est", "raptr", "pld", "stochastic_depth")) {
            SproutConfig c = cfg("method.name=" + method);
            TrainingMethod rank0 = Methods.build(c), rank1 = Methods.build(c);
            for (long s = 0; s < 2000; s += 7) {
                SubnetPlan a = rank0.plan(s);
                assertEquals(a, rank1.plan(s), method + " step " + s + ": another rank");
                assertEquals(a, rank0.plan(s), method + " step " + s + ": another micro-batch");
            }
            TrainingMethod otherSeed = Methods.build(cfg("method.name=" + method, "seed=99"));
            boolean differs = false;
            for (long s = 0; s < 500; s++) differs |= !otherSeed.plan(s).equals(rank0.plan(s));
            assertTrue(differs, method + ": the seed matters");
        }
    }

    @Test
    void stagesFallWhereConfigured() {
        TrainingMethod est = Methods.build(cfg("method.name=est", "method.est.stage1_fraction=0.3", "method.est.stage2_fraction=0.3"));
        assertEquals("1", est.stage(599));
        assertEquals("2", est.stage(600));
        assertEquals("3", est.stage(1200));
        assertTrue(est.plan(1200).isFull());
        SubnetPlan s2 = est.plan(600);
        assertEquals(8, s2.activeLayers(), "stage 2 runs every layer");
        for (LayerPlan lp : s2.layers()) {
            assertEquals(2, lp.heads().length);
            assertEquals(2.0, lp.attnScale());
            assertEquals(128, lp.neurons().length, "half of d_ff = 256");
        }
        assertEquals(4, est.plan(0).activeLayers());

        TrainingMethod raptr = Methods.build(cfg("method.name=raptr", "method.raptr.path_lengths=4-6-8"));
        assertEquals("1", raptr.stage(666));
        assertEquals("2", raptr.stage(667));
        assertEquals("3", raptr.stage(1334));
        for (long s = 0; s < 2000; s += 13) {
            SubnetPlan p = raptr.plan(s);
            assertTrue(p.layers().get(0).isFull() && p.layers().get(7).isFull(), "first and last always run, unscaled");
            for (int l = 1; l < 7; l++) {
                LayerPlan lp = p.layers().get(l);
                if (lp.active() && s < 667) {
                    assertEquals(1 / (2.0 / 6), lp.branchScale(), 1e-12, "1/p with p = (4 - 2) / 6, on the whole branch");
                    assertEquals(1.0, lp.attnScale(), "no width scale");
                }
            }
        }
        assertTrue(raptr.plan(1500).isFull());

        TrainingMethod custom = Methods.build(cfg("method.name=raptr", "method.raptr.path_lengths=4-6-8", "method.raptr.scale=custom",
                "method.raptr.custom_scales=1.5-1.2-1"));
        for (long s = 0; s < 1334; s += 13) {
            for (int l = 1; l < 7; l++) {
                LayerPlan lp = custom.plan(s).layers().get(l);
                if (lp.active()) assertEquals(s < 667 ? 1.5 : 1.2, lp.branchScale(), 0.0, "the stage's custom scale at step " + s);
            }
            assertTrue(custom.plan(s).layers().get(0).isFull(), "fixed blocks are not scaled");
        }
        ConfigException wrong = assertThrows(ConfigException.class, () -> Methods.build(cfg("method.name=raptr", "method.raptr.path_lengths=4-6-8",
                "method.raptr.scale=custom", "method.raptr.custom_scales=1.5-1")));
        assertTrue(wrong.getMessage().startsWith("method.raptr.custom_scales:"), wrong.getMessage());
    }

    @Test
    void impossibleRaptrLengthsAreRejectedByName() {
        ConfigException e = assertThrows(ConfigException.class, () -> Methods.build(cfg("method.name=raptr", "method.raptr.path_lengths=1-4-8")));
        assertTrue(e.getMessage().startsWith("method.raptr.path_lengths"), e.getMessage());
        assertThrows(ConfigException.class, () -> cfg("method.name=raptr", "method.raptr.path_lengths=four"));
        assertThrows(ConfigException.class, () -> cfg("method.name=est", "method.est.stage1_fraction=0.7", "method.est.stage2_fraction=0.5"));
    }
}
