package dev.sprout.model;

import dev.sprout.tensor.Autocast;
import dev.sprout.tensor.Tensors;
import dev.sprout.config.ModelConfig;
import static dev.sprout.tensor.Tensors.s;

import dev.sprout.subnet.SubnetPlan;
import dev.sprout.subnet.SubnetPlan.LayerPlan;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * A decoder-only transformer of the GPT-2 or Llama family whose forward pass executes a {@link SubnetPlan}.
 *
 * <p>Shape letters: B batch, T time (context), C = d_model, H query heads, G key/value heads, D = C/H head size,
 * F MLP inner width, V vocabulary. Weights are stored [out, in] as in torch.nn.Linear, so a head's slice is a
 * block of D rows of q/k/v and D columns of o, and a neuron's slice is a row of up/gate and a column of down.
 * Sub-networks gather those slices with index_select (gradients flow into the full parameter) and run the
 * smaller matmuls; nothing is masked with zeros.
 *
 * <p>Parameter names (GPT-2 | Llama differences in brackets):
 * embed.tokens [V,C], embed.positions [P,C] (gpt2), blocks.L.attn_norm.{weight,bias(gpt2)},
 * blocks.L.attn.{q,k,v,o}.{weight,bias(gpt2)}, blocks.L.mlp_norm.*, blocks.L.mlp.{up,gate(llama),down}.{weight,bias(gpt2)},
 * final_norm.{weight,bias(gpt2)}, head.weight [V,C] (untied only); with a low-rank adapter on a block linear X,
 * also X.lora_a [r,in] and X.lora_b [out,r], X.weight then frozen.
 *
 * <p>Growth methods use two more parts of the plan: a frozen block reads its parameters detached (activation
 * gradients flow through it, weight gradients are never computed), and the residual stream is detached at the
 * plan's gradient floor, so nothing below it is differentiated.
 */
public final class Transformer {
    private final ModelConfig cfg;
    private final Device device;
    private final Map<String, Tensor> params = new LinkedHashMap<>();
    private final Map<String, Adapter> adapters = new LinkedHashMap<>();
    private final Set<String> frozen = new HashSet<>();

    /**
     * A low-rank adapter on a block linear: y = x W^T + scale * (x A^T) B^T (+ bias), with W frozen.
     *
     * @param linear the linear's name, e.g. blocks.0.attn.q
     * @param a      A [r, in], the parameter {@code linear + ".lora_a"}
     * @param b      B [out, r], the parameter {@code linear + ".lora_b"}
     */
    public record Adapter(String linear, Tensor a, Tensor b, double scale) {
        public int rank() {
            return (int) a.size(0);
        }
    }
    private final Tensor ropeCos;
    private final Tensor ropeSin;

    /** Builds a freshly initialised model; the same config and seed give the same weights. */
    public Transformer(ModelConfig cfg, Device device, long seed) {
        if (cfg.vocabSize() <= 0) throw new IllegalArgumentException("model.vocab_size must be resolved before building");
        this.cfg = cfg;
        this.device = device;
        torch.manual_seed(seed);
        int c = cfg.dModel(), f = cfg.ffDim(), v = cfg.vocabSize(), kv = cfg.kvHeads() * cfg.headDim();
        double std = cfg.initStd(), residualStd = std / Math.sqrt(2.0 * cfg.nLayer());
        boolean bias = !cfg.isLlama();
        normal("embed.tokens", std, v, c);
        if (!cfg.isLlama()) normal("embed.positions", std, cfg.positions(), c);
        for (int l = 0; l < cfg.nLayer(); l++) {
            String p = "blocks." + l + ".";
            norm(p + "attn_norm");
            linear(p + "attn.q", c, c, std, bias);
            linear(p + "attn.k", kv, c, std, bias);
            linear(p + "attn.v", kv, c, std, bias);
            linear(p + "attn.o", c, c, residualStd, bias);
            norm(p + "mlp_norm");
            if (cfg.isLlama()) linear(p + "mlp.gate", f, c, std, false);
            linear(p + "mlp.up", f, c, std, bias);
            linear(p + "mlp.down", c, f, residualStd, bias);
        }
        norm("final_norm");
        if (!cfg.tied()) normal("head.weight", std, v, c);
        if (cfg.isLlama()) {
            Tensor[] cs = ropeTables(cfg.context(), cfg.headDim(), cfg.ropeTheta(), device);
            ropeCos = cs[0];
            ropeSin = cs[1];
        } else {
            ropeCos = ropeSin = null;
        }
    }

    public ModelConfig config() {
        return cfg;
    }

    public Device device() {
        return device;
    }

    /** Every parameter tensor by name, frozen ones included, in a stable order (the checkpoint order). */
    public Map<String, Tensor> parameters() {
        return Collections.unmodifiableMap(params);
    }

    /** The parameters the optimizer trains: all but the frozen weights under adapters, in the same order. */
    public Map<String, Tensor> trainableParameters() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        params.forEach((k, v) -> {
            if (!frozen.contains(k)) out.put(k, v);
        });
        return out;
    }

    /** The block linears that adapters may wrap (q, k, v, o, gate, up, down of every block), by name. */
    public List<String> blockLinears() {
        return params.keySet().stream().filter(n -> n.startsWith("blocks.") && n.endsWith(".weight") && !n.contains("_norm."))
                .map(n -> n.substring(0, n.length() - ".weight".length())).toList();
    }

    /**
     * Wraps a block linear in a low-rank adapter: A and B become parameters ({@code linear.lora_a}, {@code linear.lora_b},
     * appended to the parameter order), and the linear's weight is frozen (no gradient, no optimizer state; it changes
     * only when a method folds an update into it).
     */
    public Adapter addAdapter(String linear, Tensor a, Tensor b, double scale) {
        Tensor w = params.get(linear + ".weight");
        if (w == null || !linear.startsWith("blocks.")) throw new IllegalArgumentException("no block linear " + linear);
        if (adapters.containsKey(linear)) throw new IllegalArgumentException(linear + " already has an adapter");
        long out = w.size(0), in = w.size(1);
        if (a.dim() != 2 || b.dim() != 2 || a.size(1) != in || b.size(0) != out || b.size(1) != a.size(0)) {
            throw new IllegalArgumentException(linear + ": adapter shapes A " + Arrays.toString(a.sizes().vec().get()) + ", B "
                    + Arrays.toString(b.sizes().vec().get()) + " do not fit W [" + out + ", " + in + "]");
        }
        Tensor ta = onDevice(a), tb = onDevice(b);
        ta.set_requires_grad(true);
        tb.set_requires_grad(true);
        params.put(linear + ".lora_a", ta);
        params.put(linear + ".lora_b", tb);
        w.set_requires_grad(false);
        frozen.add(linear + ".weight");
        Adapter ad = new Adapter(linear, ta, tb, scale);
        adapters.put(linear, ad);
        return ad;
    }

    /**
     * The adapters' parameters ({@code X.lora_a}, {@code X.lora_b}). They are never weight-decayed: decay on A and B pulls
     * the effective weight W + s B A towards the frozen W, not towards zero as decay on W would; the official SwitchLoRA and
     * ReLoRA recipes train with no weight decay; and SwitchLoRA's frozen vectors must not move at all.
     */
    public Set<String> adapterParameters() {
        Set<String> out = new java.util.LinkedHashSet<>();
        for (String linear : adapters.keySet()) {
            out.add(linear + ".lora_a");
            out.add(linear + ".lora_b");
        }
        return out;
    }

    /**
     * Frees the native memory of every parameter (and so its gradient) and the RoPE tables now, instead of whenever the
     * garbage collector gets to them: a process that trains several runs one after another (compare) would otherwise
     * carry the finished runs' tensors into the next. The model cannot be used afterwards.
     */
    public void release() {
        java.util.Set<Tensor> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Tensor t : params.values()) if (seen.add(t)) t.deallocate();
        if (ropeCos != null) ropeCos.deallocate();
        if (ropeSin != null) ropeSin.deallocate();
        params.clear();
        adapters.clear();
    }

    /** The adapters by linear name, in the order they were added. */
    public Map<String, Adapter> adapters() {
        return Collections.unmodifiableMap(adapters);
    }

    /** The effective weight of a block linear: W, or W + scale * B A under an adapter (a new tensor, no graph). */
    public Tensor effectiveWeight(String linear) {
        Tensor w = param(linear + ".weight");
        Adapter ad = adapters.get(linear);
        try (NoGradGuard ng = new NoGradGuard()) {
            return ad == null ? w.clone() : w.add(torch.mm(ad.b(), ad.a()).mul(s(ad.scale())));
        }
    }

    /** The names of block l's parameters, in parameter order. */
    public List<String> blockParameters(int l) {
        String prefix = "blocks." + l + ".";
        return params.keySet().stream().filter(n -> n.startsWith(prefix)).toList();
    }

    /** Block dst's parameter that corresponds to block src's parameter {@code name}. */
    public static String sameInBlock(String name, int src, int dst) {
        String prefix = "blocks." + src + ".";
        if (!name.startsWith(prefix)) throw new IllegalArgumentException(name + " is not a parameter of block " + src);
        return "blocks." + dst + "." + name.substring(prefix.length());
    }

    public Tensor param(String name) {
        Tensor t = params.get(name);
        if (t == null) throw new IllegalArgumentException("no parameter " + name);
        return t;
    }

    /**
     * For each parameter whose rows or columns belong to single heads or neurons, the axis that indexes them:
     * rows (0) of q, k, v, up and gate (weights and biases), columns (1) of o and down.
     */
    public Map<String, Integer> sliceAxes() {
        Map<String, Integer> axes = new LinkedHashMap<>();
        for (String name : params.keySet()) {
            if (!name.startsWith("blocks.")) continue;
            String local = name.substring(name.indexOf('.', "blocks.".length()) + 1);
            switch (local) {
                case "attn.q.weight", "attn.q.bias", "attn.k.weight", "attn.k.bias", "attn.v.weight", "attn.v.bias",
                     "mlp.up.weight", "mlp.up.bias", "mlp.gate.weight" -> axes.put(name, 0);
                case "attn.o.weight", "mlp.down.weight" -> axes.put(name, 1);
                default -> {
                    // an adapter's vectors keep their own step counters (SwitchLoRA resets single rows of A, columns of B)
                    if (local.endsWith(".lora_a")) axes.put(name, 0);
                    else if (local.endsWith(".lora_b")) axes.put(name, 1);
                }
            }
        }
        return axes;
    }

    /**
     * The slices of each parameter that a plan's forward pass reads, for parameters of which only part ran
     * (sampled heads or neurons). Parameters of blocks that the plan does not update (skipped, frozen, below the
     * gradient floor) are absent: they get no gradient at all.
     */
    public Map<String, dev.sprout.tensor.Slice> slices(SubnetPlan plan) {
        Map<String, dev.sprout.tensor.Slice> out = new LinkedHashMap<>();
        int d = cfg.headDim(), perGroup = cfg.nHead() / cfg.kvHeads();
        for (int l = 0; l < cfg.nLayer(); l++) {
            LayerPlan lp = plan.layers().get(l);
            if (!plan.updates(l)) continue;
            String p = "blocks." + l + ".";
            if (lp.heads() != null && lp.heads().length < cfg.nHead()) {
                int[] qRows = blockRows(lp.heads(), d);
                int[] groups = Arrays.stream(lp.heads()).map(h -> h / perGroup).distinct().sorted().toArray();
                int[] kvRows = blockRows(groups, d);
                for (String n : new String[]{"attn.q.weight", "attn.q.bias"}) putSlice(out, p + n, 0, qRows);
                for (String n : new String[]{"attn.k.weight", "attn.k.bias", "attn.v.weight", "attn.v.bias"}) putSlice(out, p + n, 0, kvRows);
                putSlice(out, p + "attn.o.weight", 1, qRows);
            }
            if (lp.neurons() != null && lp.neurons().length < cfg.ffDim()) {
                for (String n : new String[]{"mlp.up.weight", "mlp.up.bias", "mlp.gate.weight"}) putSlice(out, p + n, 0, lp.neurons());
                putSlice(out, p + "mlp.down.weight", 1, lp.neurons());
            }
        }
        return out;
    }

    private void putSlice(Map<String, dev.sprout.tensor.Slice> out, String name, int axis, int[] index) {
        if (params.containsKey(name)) out.put(name, new dev.sprout.tensor.Slice(axis, index));
    }

    /**
     * Mean next-token cross-entropy of the plan's network on idx [B,T] against targets [B,T], as a graph node. It
     * materialises the [B*T, V] logits: the reference that {@link #lossAndBackward} and {@link #meanLoss} match.
     */
    public Tensor loss(Tensor idx, Tensor targets, SubnetPlan plan) {
        Tensor logits = logits(idx, plan);
        return torch.cross_entropy_loss(logits.view(-1, cfg.vocabSize()), targets.view(-1));
    }

    /**
     * Runs the forward and backward pass of the plan's network on idx [B,T] against targets [B,T] and returns the
     * mean cross-entropy; gradients of (gradScale times the mean loss) accumulate into the parameters.
     *
     * <p>The LM head and the loss run over chunks of at most {@code chunkElements} logits: the hidden states
     * are detached, each chunk's head and loss are differentiated on their own (the head weight's gradient
     * accumulates chunk by chunk), and the hidden states' summed gradient is then sent back through the blocks. So
     * the [B*T, V] logit tensor never exists: with GPT-2's 50,257-token vocabulary it is 412 MB per 2048 tokens,
     * and allocating it (and its gradient, and the softmax) fresh every step cost several times the head's matmuls
     * in page faults (docs/BENCHMARKS.md). A small vocabulary fits in one chunk and takes the plain path.
     *
     * @param leaves        where the partly-run parameters' slices come from, or null for in-graph gathers
     *                      (see {@link #hidden(Tensor, SubnetPlan, SliceLeaves)})
     * @param chunkElements at most this many logits per chunk (normally {@link #LOGIT_CHUNK_ELEMENTS})
     */
    public double lossAndBackward(Tensor idx, Tensor targets, SubnetPlan plan, SliceLeaves leaves, double gradScale, long chunkElements) {
        Tensor h = hidden(idx, plan, leaves);
        h = h.view(-1, h.size(2)); // [N,C]
        Tensor y = targets.view(-1);
        long n = h.size(0), rows = chunkRows(chunkElements);
        if (rows >= n) {
            Tensor loss = torch.cross_entropy_loss(torch.linear(h, headWeight()), y);
            (gradScale == 1.0 ? loss : loss.mul(s(gradScale))).backward();
            return loss.item_double();
        }
        Tensor detached = h.detach().set_requires_grad(true);
        Tensor w = headWeight();
        double sum = 0;
        for (long start = 0; start < n; start += rows) {
            long len = Math.min(rows, n - start);
            try (PointerScope chunk = new PointerScope()) {
                Tensor lossSum = chunkLossSum(detached, w, y, start, len);
                sum += lossSum.item_double();
                lossSum.mul(s(gradScale / n)).backward();
            }
        }
        h.backward(detached.grad(), new BoolOptional(), false, new TensorArrayRefOptional());
        return sum / n;
    }

    /** Mean cross-entropy of the plan's network without building a graph (callers hold a NoGradGuard), chunked as above. */
    public double meanLoss(Tensor idx, Tensor targets, SubnetPlan plan) {
        return meanLoss(idx, targets, plan, LOGIT_CHUNK_ELEMENTS);
    }

    /** {@link #meanLoss(Tensor, Tensor, SubnetPlan)} with chunks of at most chunkElements logits. */
    public double meanLoss(Tensor idx, Tensor targets, SubnetPlan plan, long chunkElements) {
        Tensor h = hidden(idx, plan);
        h = h.view(-1, h.size(2));
        Tensor y = targets.view(-1), w = headWeight();
        long n = h.size(0), rows = chunkRows(chunkElements);
        double sum = 0;
        for (long start = 0; start < n; start += rows) {
            try (PointerScope chunk = new PointerScope()) {
                sum += chunkLossSum(h, w, y, start, Math.min(rows, n - start)).item_double();
            }
        }
        return sum / n;
    }

    /** Logit elements per chunk of the chunked head and loss: 16 MB of floats, below glibc's largest mmap threshold. */
    public static final long LOGIT_CHUNK_ELEMENTS = 1L << 22;

    private long chunkRows(long chunkElements) {
        if (chunkElements < 1) throw new IllegalArgumentException("chunkElements must be >= 1, got " + chunkElements);
        return Math.max(1, chunkElements / cfg.vocabSize());
    }

    /** Summed cross-entropy of rows [start, start+len) of hidden states h [N,C] through the head weight w [V,C]. */
    private static Tensor chunkLossSum(Tensor h, Tensor w, Tensor y, long start, long len) {
        Tensor logits = torch.linear(h.narrow(0, start, len), w); // [len,V]
        return torch.cross_entropy_loss(logits, y.narrow(0, start, len), new TensorOptional(), REDUCTION_SUM, -100, 0.0);
    }

    /** at::Reduction::Sum. */
    private static final long REDUCTION_SUM = 2;

    /** Logits [B,T,V] of the network that the plan executes. */
    public Tensor logits(Tensor idx, SubnetPlan plan) {
        return torch.linear(hidden(idx, plan), headWeight()); // [B,T,V]
    }

    /** The LM head's weight [V,C]: the token embedding when tied. */
    private Tensor headWeight() {
        return cfg.tied() ? params.get("embed.tokens") : params.get("head.weight");
    }

    /** Final-normed hidden states [B,T,C] of the network that the plan executes. */
    public Tensor hidden(Tensor idx, SubnetPlan plan) {
        return hidden(idx, plan, null);
    }

    /**
     * Final-normed hidden states [B,T,C] of the network that the plan executes. With {@code leaves}, the partly-run
     * parameters' slices come from (and send their gradients to) those leaves; without, from index_select on the
     * parameters, whose gradients are then full-size and zero outside the slices.
     */
    public Tensor hidden(Tensor idx, SubnetPlan plan, SliceLeaves leaves) {
        if (plan.layers().size() != cfg.nLayer()) {
            throw new IllegalArgumentException("plan has " + plan.layers().size() + " layers, model has " + cfg.nLayer());
        }
        long t = idx.size(1);
        if (t > cfg.context()) throw new IllegalArgumentException("sequence of " + t + " tokens exceeds model.context=" + cfg.context());
        Tensor x = torch.embedding(params.get("embed.tokens"), idx); // [B,T,C]
        if (!cfg.isLlama()) x = x.add(params.get("embed.positions").narrow(0, 0, t));
        for (int l = 0; l < cfg.nLayer(); l++) {
            if (l > 0 && l == plan.gradientFloor()) x = x.detach(); // nothing below this block is differentiated
            LayerPlan lp = plan.layers().get(l);
            if (!lp.active()) continue; // identity on the residual stream: the block's parameters get no gradient
            String p = "blocks." + l + ".";
            boolean frozen = !plan.updates(l);
            x = x.add(attention(norm(x, p + "attn_norm", frozen), p + "attn.", lp, frozen, leaves));
            x = x.add(mlp(norm(x, p + "mlp_norm", frozen), p + "mlp.", lp, frozen, leaves));
        }
        if (plan.gradientFloor() == cfg.nLayer() && cfg.nLayer() > 0) x = x.detach();
        return norm(x, "final_norm", false);
    }

    /**
     * A parameter as a block reads it: a frozen block reads it detached, so autograd computes the activation
     * gradients through the block (when something below needs them) but never the weight gradients.
     */
    private Tensor weight(String name, boolean frozen) {
        Tensor t = params.get(name);
        return t == null || !frozen ? t : t.detach();
    }

    private Tensor attention(Tensor h, String p, LayerPlan lp, boolean fz, SliceLeaves leaves) {
        long b = h.size(0), t = h.size(1);
        int nh = cfg.nHead(), g = cfg.kvHeads(), d = cfg.headDim(), perGroup = nh / g;
        int[] heads = lp.heads() != null && lp.heads().length == nh ? null : lp.heads(); // all heads listed = the full path
        int[] groups = null; // key/value heads the kept query heads read
        Tensor qRows = null, kvRows = null;
        if (heads != null) {
            TreeSet<Integer> needed = new TreeSet<>();
            for (int hd : heads) needed.add(hd / perGroup);
            groups = needed.stream().mapToInt(Integer::intValue).toArray();
            qRows = Tensors.intIndex(blockRows(heads, d), device);
            kvRows = Tensors.intIndex(blockRows(groups, d), device);
        }
        int hq = heads == null ? nh : heads.length, hk = groups == null ? g : groups.length;
        Tensor q = proj(h, p + "q", qRows, leaves, fz).view(b, t, hq, d).transpose(1, 2); // [B,hq,T,D]
        Tensor k = proj(h, p + "k", kvRows, leaves, fz).view(b, t, hk, d).transpose(1, 2); // [B,hk,T,D]
        Tensor v = proj(h, p + "v", kvRows, leaves, fz).view(b, t, hk, d).transpose(1, 2);
        if (cfg.isLlama()) {
            q = rope(q, t);
            k = rope(k, t);
        }
        if (hk != hq) { // grouped-query attention: each kept query head reads its group's K/V
            int[] map = new int[hq];
            for (int i = 0; i < hq; i++) {
                int group = (heads == null ? i : heads[i]) / perGroup;
                map[i] = groups == null ? group : Arrays.binarySearch(groups, group);
            }
            Tensor mi = Tensors.intIndex(map, device);
            k = torch.index_select(k, 1, mi);
            v = torch.index_select(v, 1, mi);
        }
        Tensor y = causalAttention(q, k, v);
        y = y.transpose(1, 2).reshape(b, t, (long) hq * d); // [B,T,hq*D]
        return outProj(y, p + "o", qRows, lp.attnSumScale(), lp.branchScale(), leaves, fz);
    }

    /**
     * Causal scaled-dot-product attention. Under bf16 autocast on the CPU it runs in fp32: libtorch's CPU attention kernels
     * took about 10x as long in bf16 as in fp32 here, while the projections around it gain over 3x (docs/PRECISION.md).
     */
    private Tensor causalAttention(Tensor q, Tensor k, Tensor v) {
        if (device.is_cpu() && Autocast.enabled(device)) {
            try (Autocast off = Autocast.suspended(device)) {
                return torch.scaled_dot_product_attention(q.to(torch.ScalarType.Float), k.to(torch.ScalarType.Float), v.to(torch.ScalarType.Float),
                        new TensorOptional(), 0.0, true, new DoubleOptional(), false);
            }
        }
        return torch.scaled_dot_product_attention(q, k, v, new TensorOptional(), 0.0, true, new DoubleOptional(), false);
    }

    private Tensor mlp(Tensor h, String p, LayerPlan lp, boolean fz, SliceLeaves leaves) {
        boolean all = lp.neurons() == null || lp.neurons().length == cfg.ffDim();
        Tensor rows = all ? null : Tensors.intIndex(lp.neurons(), device);
        Tensor a;
        if (cfg.isLlama()) {
            a = torch.silu(proj(h, p + "gate", rows, leaves, fz)).mul(proj(h, p + "up", rows, leaves, fz)); // SwiGLU [B,T,F']
        } else {
            a = torch.gelu(proj(h, p + "up", rows, leaves, fz), "tanh"); // [B,T,F']
        }
        return outProj(a, p + "down", rows, lp.mlpSumScale(), lp.branchScale(), leaves, fz);
    }

    /** x @ W[rows]^T + b[rows]: an input projection restricted to some output rows (null = all). */
    private Tensor proj(Tensor x, String name, Tensor rows, SliceLeaves leaves, boolean frozen) {
        Adapter ad = adapters.get(name);
        if (ad != null) return adapted(x, ad, rows, 1.0, 1.0, frozen);
        Tensor w = weight(name + ".weight", frozen), bias = weight(name + ".bias", frozen);
        SliceLeaves from = frozen ? null : leaves; // a frozen block's slices need no gradient of their own
        if (rows != null) {
            w = slice(name + ".weight", w, 0, rows, from);
            if (bias != null) bias = slice(name + ".bias", bias, 0, rows, from);
        }
        return bias == null ? torch.linear(x, w) : torch.linear(x, w, new TensorOptional(bias));
    }

    /**
     * sumScale * (x @ W[:,cols]^T) + biasScale * b: an output projection restricted to some input columns (null = all),
     * with the plan's scales (SubnetPlan.LayerPlan: sumScale = width times branch scale, biasScale = the branch scale).
     * The scales are folded into the gathered weight and the bias, which are smaller than the activations, so the matmul
     * and bias stay one fused op.
     */
    private Tensor outProj(Tensor x, String name, Tensor cols, double sumScale, double biasScale, SliceLeaves leaves, boolean frozen) {
        Adapter ad = adapters.get(name);
        if (ad != null) return adapted(x, ad, cols, sumScale, biasScale, frozen);
        Tensor w = weight(name + ".weight", frozen), bias = weight(name + ".bias", frozen);
        if (cols != null) w = slice(name + ".weight", w, 1, cols, frozen ? null : leaves);
        if (sumScale != 1.0) w = w.mul(s(sumScale));
        if (bias != null && biasScale != 1.0) bias = bias.mul(s(biasScale));
        return bias == null ? torch.linear(x, w) : torch.linear(x, w, new TensorOptional(bias));
    }

    /**
     * sumScale * (x W^T + s (x A^T) B^T) + biasScale * b for an adapted linear [B,T,in] -> [B,T,out]: the frozen weight's
     * matmul and the two thin ones (r = rank), never the dense W + s B A. Adapters wrap whole linears: subnetwork plans
     * that gather heads or neurons are not combined with them.
     */
    private Tensor adapted(Tensor x, Adapter ad, Tensor index, double sumScale, double biasScale, boolean frozen) {
        if (index != null) throw new UnsupportedOperationException(ad.linear() + ": subnetwork plans that sample heads or neurons do not run on adapted linears");
        Tensor w = params.get(ad.linear() + ".weight"), bias = weight(ad.linear() + ".bias", frozen);
        Tensor a = frozen ? ad.a().detach() : ad.a(), b = frozen ? ad.b().detach() : ad.b();
        if (sumScale != 1.0) w = w.mul(s(sumScale));
        if (bias != null && biasScale != 1.0) bias = bias.mul(s(biasScale));
        Tensor y = bias == null ? torch.linear(x, w) : torch.linear(x, w, new TensorOptional(bias));
        return y.add(torch.linear(torch.linear(x, a), b.mul(s(ad.scale() * sumScale))));
    }

    /** The rows (axis 0) or columns (axis 1) {@code index} of a parameter: a leaf of {@code leaves}, or an index_select in the graph. */
    private static Tensor slice(String name, Tensor param, int axis, Tensor index, SliceLeaves leaves) {
        return leaves == null ? torch.index_select(param, axis, index) : leaves.leaf(name, param, axis, index);
    }

    private Tensor norm(Tensor x, String name, boolean frozen) {
        long[] shape = {cfg.dModel()};
        Tensor w = weight(name + ".weight", frozen);
        if (cfg.isLlama()) return torch.rms_norm(x, shape, new TensorOptional(w), new DoubleOptional(cfg.normEps()));
        return torch.layer_norm(x, shape, new TensorOptional(w), new TensorOptional(weight(name + ".bias", frozen)), cfg.normEps(), false);
    }

    /** Rotary position embedding, rotate-half convention: x*cos + rotate_half(x)*sin over [B,H,T,D]. */
    private Tensor rope(Tensor x, long t) {
        long half = cfg.headDim() / 2;
        Tensor x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half);
        Tensor rotated = torch.cat(new TensorVector(x2.neg(), x1), -1);
        return x.mul(ropeCos.narrow(0, 0, t)).add(rotated.mul(ropeSin.narrow(0, 0, t)));
    }

    static Tensor[] ropeTables(int context, int headDim, double theta, Device device) {
        int half = headDim / 2;
        float[] cos = new float[context * headDim], sin = new float[context * headDim];
        for (int pos = 0; pos < context; pos++) {
            for (int i = 0; i < half; i++) {
                double freq = Math.pow(theta, -2.0 * i / headDim);
                double a = pos * freq;
                cos[pos * headDim + i] = cos[pos * headDim + i + half] = (float) Math.cos(a);
                sin[pos * headDim + i] = sin[pos * headDim + i + half] = (float) Math.sin(a);
            }
        }
        return new Tensor[]{
                torch.tensor(cos).view(context, headDim).to(device, torch.ScalarType.Float),
                torch.tensor(sin).view(context, headDim).to(device, torch.ScalarType.Float)};
    }

    private static int[] blockRows(int[] blocks, int size) {
        int[] rows = new int[blocks.length * size];
        for (int i = 0; i < blocks.length; i++) for (int j = 0; j < size; j++) rows[i * size + j] = blocks[i] * size + j;
        return rows;
    }

    private void normal(String name, double std, long... shape) {
        Tensor t = torch.randn(shape); // the owning handle goes into the parameter map (mul_'s returned one would not own it)
        t.mul_(s(std));
        add(name, t);
    }

    private void linear(String name, int out, int in, double std, boolean bias) {
        normal(name + ".weight", std, out, in);
        if (bias) add(name + ".bias", torch.zeros(out));
    }

    private void norm(String name) {
        add(name + ".weight", torch.ones(cfg.dModel()));
        if (!cfg.isLlama()) add(name + ".bias", torch.zeros(cfg.dModel()));
    }

    private Tensor onDevice(Tensor cpu) {
        return device.is_cpu() ? cpu : cpu.to(device, torch.ScalarType.Float);
    }

    private void add(String name, Tensor cpu) {
        Tensor t = onDevice(cpu);
        t.set_requires_grad(true);
        params.put(name, t);
    }
}
