package dev.sprout.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sprout.config.ConfigLoader;
import dev.sprout.config.ModelConfig;
import dev.sprout.subnet.SubnetPlan;
import dev.sprout.subnet.SubnetPlan.LayerPlan;
import dev.sprout.train.FlopsAccountant.Breakdown;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class FlopsAccountantTest {
    static ModelConfig gpt2Small() {
        var c = ConfigLoader.load(Path.of("configs/gpt2-124m.yaml"), List.of());
        return c.model().resolve(50257);
    }

    @Test
    void fullGpt2SmallMatchesTheHandCount() {
        // methods.md section 1 with V = 50304: per token forward 8C^2 + 4TC + 16C^2 per block, 2CV head.
        ModelConfig m = gpt2Small();
        double c = 768, t = 1024, v = 50304;
        double perToken = 12 * (8 * c * c + 4 * t * c + 16 * c * c) + 2 * c * v;
        Breakdown f = new FlopsAccountant(m, 2).forward(SubnetPlan.full(12), 1, 1024);
        assertEquals(perToken * t, f.total(), 1e-6 * f.total());
        assertEquals(12 * 8 * c * c * t, f.attnProj(), 1);
        assertEquals(12 * 4 * t * c * t, f.attnScores(), 1);
        assertEquals(12 * 16 * c * c * t, f.mlp(), 1);
        assertEquals(2 * c * v * t, f.head(), 1);
        // the 6N rule: training = 3x forward; matmul weights N = 12 * 12 C^2 + V C
        double n = 12 * 12 * c * c + v * c;
        Breakdown train = new FlopsAccountant(m, 2).train(SubnetPlan.full(12), 1, 1024);
        assertEquals(6 * n * t + 3 * 12 * 4 * t * c * t, train.total(), 1e-6 * train.total());
    }

    @Test
    void partialPlansCountOnlyWhatRuns() {
        ModelConfig m = gpt2Small();
        FlopsAccountant acc = new FlopsAccountant(m, 2);
        double c = 768, t = 1024, f = 3072;
        Breakdown full = acc.forward(SubnetPlan.full(12), 1, 1024);
        boolean[] half = new boolean[12];
        for (int i = 0; i < 12; i += 2) half[i] = true;
        Breakdown layers = acc.forward(SubnetPlan.layers(12, half), 1, 1024);
        assertEquals(full.mlp() / 2, layers.mlp(), 1);
        assertEquals(full.head(), layers.head(), 0);

        int[] sixHeads = {0, 1, 2, 3, 4, 5};
        int[] neurons = new int[1000];
        for (int i = 0; i < neurons.length; i++) neurons[i] = 3 * i;
        LayerPlan lp = new LayerPlan(true, sixHeads, neurons, 2, 3.072);
        Breakdown one = acc.forward(new SubnetPlan(List.of(lp, LayerPlan.SKIP, LayerPlan.SKIP, LayerPlan.SKIP, LayerPlan.SKIP, LayerPlan.SKIP,
                LayerPlan.SKIP, LayerPlan.SKIP, LayerPlan.SKIP, LayerPlan.SKIP, LayerPlan.SKIP, LayerPlan.SKIP)), 1, 1024);
        assertEquals(8 * c * (c / 2) * t, one.attnProj(), 1);
        assertEquals(4 * t * (c / 2) * t, one.attnScores(), 1);
        assertEquals(4 * c * 1000 * t, one.mlp(), 1);
        assertEquals(f, m.ffDim());
    }

    @Test
    void groupedQueryAttentionCountsTheKeyValueHeadsThatAreRead() {
        var c = ConfigLoader.load(Path.of("configs/llama-tiny.yaml"), List.of()).model().resolve(50257);
        FlopsAccountant acc = new FlopsAccountant(c, 0);
        double d = 64, hd = 16, t = 128;
        // 4 query heads, 2 KV heads of 16: q and o 2*64*64 each, k and v 2*64*32 each per token
        Breakdown f = acc.forward(SubnetPlan.full(4), 1, 128);
        assertEquals(4 * (2 * d * d * 2 + 2 * 2 * d * 2 * hd) * t, f.attnProj(), 1);
        // heads 0 and 1 share KV head 0: one KV head read
        LayerPlan lp = new LayerPlan(true, new int[]{0, 1}, null, 2, 1);
        Breakdown p = acc.forward(new SubnetPlan(List.of(lp, LayerPlan.SKIP, LayerPlan.SKIP, LayerPlan.SKIP)), 1, 128);
        assertEquals((2 * d * 2 * hd * 2 + 2 * 2 * d * hd) * t, p.attnProj(), 1);
        assertEquals(6 * d * 192 * t, p.mlp(), 1);
    }
}
