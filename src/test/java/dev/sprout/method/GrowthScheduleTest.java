package dev.sprout.method;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sprout.config.ConfigException;
import dev.sprout.config.ConfigLoader;
import dev.sprout.config.MethodConfig;
import dev.sprout.subnet.SubnetPlan;
import dev.sprout.subnet.SubnetPlan.LayerPlan;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What growth schedules run at each step, and the errors for settings that cannot work. */
class GrowthScheduleTest {
    @Test
    void incrementalAddsBlocksInStagesWithAFrozenFirstHalf() {
        // 10 blocks, 4 stages: 3, 3, 2, 2 new blocks (the remainder goes to the first stages)
        Incremental inc = new Incremental(new MethodConfig.Incremental(4, true, "cut", 0.8), 10, 100);
        assertArrayEquals(new int[]{3, 6, 8, 10}, inc.stageTops());
        assertEquals(80, inc.continualStart());
        SubnetPlan s2new = inc.plan(20); // stage 2 = steps 20-39, first half frozen below block 3
        assertEquals("2-new", inc.stage(20));
        assertEquals(3, s2new.gradientFloor());
        for (int l = 0; l < 10; l++) {
            LayerPlan expect = l < 3 ? LayerPlan.FROZEN : l < 6 ? LayerPlan.FULL : LayerPlan.SKIP;
            assertEquals(expect, s2new.layers().get(l), "block " + l);
        }
        SubnetPlan s2all = inc.plan(30);
        assertEquals("2-all", inc.stage(30));
        assertEquals(0, s2all.gradientFloor());
        assertEquals(6, s2all.activeLayers());
        assertTrue(s2all.layers().subList(0, 6).stream().allMatch(LayerPlan::isFull));
        assertEquals("4-all", inc.stage(79));
        assertEquals("full", inc.stage(80));
        assertTrue(inc.plan(80).isFull());
        // through-frozen keeps the whole graph: the same frozen blocks, no floor
        assertEquals(0, new Incremental(new MethodConfig.Incremental(4, true, "through-frozen", 0.8), 10, 100).plan(20).gradientFloor());
        // no freezing: every stage trains all its blocks
        Incremental noFreeze = new Incremental(new MethodConfig.Incremental(4, false, "through-frozen", 1.0), 10, 100);
        assertEquals("2", noFreeze.stage(25));
        assertTrue(noFreeze.plan(25).layers().subList(0, 6).stream().allMatch(LayerPlan::isFull));
    }

    @Test
    void stackingRunsTheCurrentDepthInEqualStages() {
        Stacking s = new Stacking(new MethodConfig.Stacking("2-4-8", "copy", false, 1.0), 8, 90);
        assertEquals("2", s.stage(29));
        assertEquals(2, s.plan(29).activeLayers());
        assertEquals("4", s.stage(30));
        assertEquals(4, s.plan(30).activeLayers());
        assertTrue(s.plan(60).isFull());
        // stages over the first 40% of 100 steps: depth 2 for 0-12, 4 for 13-25, then 8 to the end
        Stacking early = new Stacking(new MethodConfig.Stacking("2-4-8", "copy", false, 0.4), 8, 100);
        assertEquals("2", early.stage(12));
        assertEquals("4", early.stage(13));
        assertEquals("8", early.stage(27));
        assertTrue(early.plan(99).isFull());
    }

    @Test
    void impossibleGrowthSettingsNameTheKey() {
        assertTrue(error(() -> new Stacking(new MethodConfig.Stacking("2-4-6", "copy", false, 1.0), 8, 90)).startsWith("method.stacking.depths: the last depth"));
        assertTrue(error(() -> new Stacking(new MethodConfig.Stacking("2-6-8", "copy", false, 1.0), 8, 90)).contains("at most to double"));
        assertTrue(error(() -> new Stacking(new MethodConfig.Stacking("4-2-8", "copy", false, 1.0), 8, 90)).contains("must grow"));
        assertTrue(error(() -> new Incremental(new MethodConfig.Incremental(9, true, "cut", 1.0), 8, 90)).startsWith("method.incremental.stages"));
        assertTrue(error(() -> new Incremental(new MethodConfig.Incremental(4, true, "cut", 0.05), 8, 90)).startsWith("method.incremental.incremental_fraction"));
        assertTrue(error(() -> load("method.incremental.gradients=none")).startsWith("method.incremental.gradients"));
        assertTrue(error(() -> load("method.incremental.incremental_fraction=0")).startsWith("method.incremental.incremental_fraction"));
        assertTrue(error(() -> load("method.incremental.stages=0")).startsWith("method.incremental.stages"));
        assertTrue(error(() -> load("method.stacking.depths=2,4,8")).startsWith("method.stacking.depths"));
        assertTrue(error(() -> load("method.stacking.optimizer_state=keep")).startsWith("method.stacking.optimizer_state"));
        assertTrue(error(() -> load("method.stacking.growth_fraction=1.5")).startsWith("method.stacking.growth_fraction"));
    }

    private static Object load(String override) {
        return ConfigLoader.load(null, List.of(override));
    }

    private static String error(Runnable r) {
        return assertThrows(ConfigException.class, r::run).getMessage();
    }
}
