package dev.sprout.train;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * Which rank keeps and updates each parameter's optimizer state when it is sharded (ZeRO stage 1, dist.shard_optimizer).
 * Parameters are grouped by their name inside a block (every block's attn.q.weight together), so the state a growth
 * event copies from one block to another (stacking) never crosses ranks; the groups go, largest first, to the rank with
 * the fewest bytes so far. Every rank computes the same assignment from the same parameters.
 */
final class OptimizerShards {
    private OptimizerShards() {}

    /** The owner rank of every parameter, in parameter order. */
    static Map<String, Integer> assign(Map<String, Tensor> params, int world) {
        Map<String, List<String>> groups = new LinkedHashMap<>();
        Map<String, Long> bytes = new LinkedHashMap<>();
        params.forEach((name, p) -> {
            String group = withinBlock(name);
            groups.computeIfAbsent(group, g -> new ArrayList<>()).add(name);
            bytes.merge(group, p.numel() * 4L, Long::sum);
        });
        List<String> order = new ArrayList<>(groups.keySet());
        order.sort(Comparator.comparing((String g) -> -bytes.get(g)).thenComparing(g -> g)); // largest first; ties by name
        long[] load = new long[world];
        Map<String, Integer> groupOwner = new LinkedHashMap<>();
        for (String g : order) {
            int least = 0;
            for (int r = 1; r < world; r++) if (load[r] < load[least]) least = r;
            groupOwner.put(g, least);
            load[least] += bytes.get(g);
        }
        Map<String, Integer> owners = new LinkedHashMap<>();
        params.keySet().forEach(name -> owners.put(name, groupOwner.get(withinBlock(name))));
        return owners;
    }

    /** "blocks.3.attn.q.weight" -> "attn.q.weight"; other names as they are. */
    static String withinBlock(String name) {
        if (!name.startsWith("blocks.")) return name;
        int dot = name.indexOf('.', "blocks.".length());
        return dot < 0 ? name : name.substring(dot + 1);
    }
}
