package dev.sprout.method;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sprout.config.ConfigLoader;
import dev.sprout.config.MethodConfig;
import dev.sprout.config.ModelConfig;
import dev.sprout.subnet.SubnetPlan;
import dev.sprout.train.FlopsAccountant;
import dev.sprout.train.FlopsAccountant.Breakdown;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The accountant's cost of incremental training against the closed forms of methods.md section 4.2. */
class GrowthFlopsTest {
    static final int T = 1600; // divisible by 2S for S = 2, 4, 8: every phase has exactly T/(2S) steps

    static ModelConfig model(int layers) {
        return ConfigLoader.load(null, List.of("model.n_layer=" + layers, "model.n_head=4", "model.d_model=64", "model.context=64")).model().resolve(65);
    }

    /** Block FLOPs of the whole incremental phase (head left out) over the baseline's, standard 1:2 accounting. */
    static double blockRatio(Incremental inc, ModelConfig m) {
        FlopsAccountant acc = new FlopsAccountant(m, 2);
        double run = 0;
        for (long s = 0; s < T; s++) run += blocks(acc.train(inc.plan(s), 1, m.context()));
        return run / (T * blocks(acc.train(SubnetPlan.full(m.nLayer()), 1, m.context())));
    }

    static double blocks(Breakdown b) {
        return b.total() - b.head();
    }

    static Incremental incremental(int s, String gradients, int layers) {
        return new Incremental(new MethodConfig.Incremental(s, true, gradients, 1.0), layers, T);
    }

    @ParameterizedTest
    @CsvSource({"2, 8", "4, 8", "8, 8", "2, 12", "4, 12"})
    void cutGraphCostsTheClosedFormForEvenStages(int s, int layers) {
        double ratio = blockRatio(incremental(s, "cut", layers), model(layers));
        assertEquals((s + 2.0) / (3.0 * s), ratio, 0.01 * (s + 2.0) / (3.0 * s));
    }

    /** L not divisible by S: the formula summed over the actual stage sizes (the remainder goes to the first stages). */
    @ParameterizedTest
    @CsvSource({"4, 10", "8, 10", "3, 8"})
    void cutGraphCostsTheFormulaOverTheActualStageSizes(int s, int layers) {
        Incremental inc = incremental(s, "cut", layers);
        int[] tops = inc.stageTops();
        assertEquals(layers, tops[s - 1], "every block is used");
        // per stage, phase 1 (T/2S steps): forward over n_s blocks + backward (2x) over the k_s new ones; phase 2: 3 n_s
        double sum = 0;
        for (int i = 0; i < s; i++) {
            int n = tops[i], k = n - (i == 0 ? 0 : tops[i - 1]);
            sum += (n + 2.0 * k) + 3.0 * n;
        }
        double expected = sum / (2.0 * s * 3.0 * layers);
        assertEquals(expected, blockRatio(inc, model(layers)), 0.01 * expected);
    }

    @ParameterizedTest
    @CsvSource({"2, 8", "4, 8", "8, 8"})
    void thePapersCostModelGivesItsOwnFormula(int s, int layers) {
        // section 4.2: C_incremental = T c L (3S+5)/(4S) against C_baseline = 2 T L c
        ModelConfig m = model(layers);
        FlopsAccountant acc = new FlopsAccountant(m, 2);
        for (String gradients : List.of("cut", "through-frozen")) { // the paper's model ignores the hidden cost by design
            Incremental inc = incremental(s, gradients, layers);
            double run = 0;
            for (long step = 0; step < T; step++) run += acc.paperModel(inc.plan(step), 1, m.context());
            double base = T * acc.paperModel(SubnetPlan.full(layers), 1, m.context());
            assertEquals((3.0 * s + 5) / (8.0 * s), run / base, 1e-9, gradients);
        }
    }

    @ParameterizedTest
    @CsvSource({"2, 8", "4, 8", "8, 8"})
    void gradientsThroughFrozenBlocksCostMoreThanTheCutGraph(int s, int layers) {
        ModelConfig m = model(layers);
        double cut = blockRatio(incremental(s, "cut", layers), m), through = blockRatio(incremental(s, "through-frozen", layers), m);
        assertTrue(through > cut * 1.02, "through-frozen " + through + " vs cut " + cut);
        assertTrue(through < 1, "still cheaper than the baseline: " + through);
        // the activation gradients of frozen blocks are at most their forward cost plus the attention scores' backward
        double noFreeze = blockRatio(new Incremental(new MethodConfig.Incremental(s, false, "through-frozen", 1.0), layers, T), m);
        assertTrue(through < noFreeze, "freezing saves the frozen blocks' weight gradients: " + through + " vs " + noFreeze);
    }
}
