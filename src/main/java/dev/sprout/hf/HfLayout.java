package dev.sprout.hf;

import dev.sprout.config.ModelConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Where each of Sprout's parameters lives in a Hugging Face transformers checkpoint, both ways.
 *
 * <p>GPT-2 ({@code GPT2LMHeadModel}): {@code transformer.wte/wpe}, per block {@code transformer.h.N.ln_1},
 * {@code attn.c_attn} (q, k and v concatenated), {@code attn.c_proj}, {@code ln_2}, {@code mlp.c_fc}, {@code mlp.c_proj},
 * then {@code transformer.ln_f}. GPT-2's linears are {@code Conv1D}s, which store their weights [in, out], transposed from
 * Sprout's (and torch.nn.Linear's) [out, in]. The LM head is tied to wte; {@code lm_head.weight} exists only untied.
 *
 * <p>Llama ({@code LlamaForCausalLM}): {@code model.embed_tokens}, per block {@code model.layers.N.self_attn.{q,k,v,o}_proj},
 * {@code mlp.{gate,up,down}_proj}, {@code input_layernorm}, {@code post_attention_layernorm}, then {@code model.norm} and
 * {@code lm_head} (untied only). Weights keep the [out, in] layout and rows keep their order: HF's Llama applies RoPE in
 * the rotate-half convention over contiguous head slices of q and k, exactly as Sprout does, so weights that Sprout
 * trained need no permutation (that permutation exists only for Meta's original interleaved checkpoints).
 */
final class HfLayout {
    private HfLayout() {}

    /** How an HF tensor is made of Sprout tensors. */
    enum Kind {
        /** the same tensor */
        COPY,
        /** a Conv1D weight: the Sprout weight transposed */
        TRANSPOSE,
        /** GPT-2's c_attn bias: q, k and v concatenated */
        CONCAT,
        /** GPT-2's c_attn weight: q, k and v concatenated along the outputs, then transposed to [in, 3 out] */
        CONCAT_TRANSPOSE
    }

    /**
     * One tensor of the HF checkpoint.
     *
     * @param hf      its HF name
     * @param shape   its HF shape
     * @param sprout  the Sprout parameters it holds, in order
     * @param rows    each Sprout parameter's size along the concatenated axis (CONCAT kinds), else null
     */
    record Rule(String hf, long[] shape, Kind kind, List<String> sprout, long[] rows) {}

    /** The HF checkpoint's tensors for a model of this config, in transformers' state_dict order. */
    static List<Rule> rules(ModelConfig m) {
        List<Rule> out = new ArrayList<>();
        long c = m.dModel(), f = m.ffDim(), v = m.vocabSize(), kv = (long) m.kvHeads() * m.headDim();
        if (m.isLlama()) {
            out.add(copy("model.embed_tokens.weight", "embed.tokens", v, c));
            for (int l = 0; l < m.nLayer(); l++) {
                String h = "model.layers." + l + ".", p = "blocks." + l + ".";
                out.add(copy(h + "self_attn.q_proj.weight", p + "attn.q.weight", c, c));
                out.add(copy(h + "self_attn.k_proj.weight", p + "attn.k.weight", kv, c));
                out.add(copy(h + "self_attn.v_proj.weight", p + "attn.v.weight", kv, c));
                out.add(copy(h + "self_attn.o_proj.weight", p + "attn.o.weight", c, c));
                out.add(copy(h + "mlp.gate_proj.weight", p + "mlp.gate.weight", f, c));
                out.add(copy(h + "mlp.up_proj.weight", p + "mlp.up.weight", f, c));
                out.add(copy(h + "mlp.down_proj.weight", p + "mlp.down.weight", c, f));
                out.add(copy(h + "input_layernorm.weight", p + "attn_norm.weight", c));
                out.add(copy(h + "post_attention_layernorm.weight", p + "mlp_norm.weight", c));
            }
            out.add(copy("model.norm.weight", "final_norm.weight", c));
        } else {
            out.add(copy("transformer.wte.weight", "embed.tokens", v, c));
            out.add(copy("transformer.wpe.weight", "embed.positions", m.positions(), c));
            for (int l = 0; l < m.nLayer(); l++) {
                String h = "transformer.h." + l + ".", p = "blocks." + l + ".";
                out.add(copy(h + "ln_1.weight", p + "attn_norm.weight", c));
                out.add(copy(h + "ln_1.bias", p + "attn_norm.bias", c));
                long[] qkv = {c, kv, kv};
                out.add(new Rule(h + "attn.c_attn.weight", new long[]{c, c + 2 * kv}, Kind.CONCAT_TRANSPOSE,
                        List.of(p + "attn.q.weight", p + "attn.k.weight", p + "attn.v.weight"), qkv));
                out.add(new Rule(h + "attn.c_attn.bias", new long[]{c + 2 * kv}, Kind.CONCAT,
                        List.of(p + "attn.q.bias", p + "attn.k.bias", p + "attn.v.bias"), qkv));
                out.add(transpose(h + "attn.c_proj.weight", p + "attn.o.weight", c, c));
                out.add(copy(h + "attn.c_proj.bias", p + "attn.o.bias", c));
                out.add(copy(h + "ln_2.weight", p + "mlp_norm.weight", c));
                out.add(copy(h + "ln_2.bias", p + "mlp_norm.bias", c));
                out.add(transpose(h + "mlp.c_fc.weight", p + "mlp.up.weight", c, f));
                out.add(copy(h + "mlp.c_fc.bias", p + "mlp.up.bias", f));
                out.add(transpose(h + "mlp.c_proj.weight", p + "mlp.down.weight", f, c));
                out.add(copy(h + "mlp.c_proj.bias", p + "mlp.down.bias", c));
            }
            out.add(copy("transformer.ln_f.weight", "final_norm.weight", c));
            out.add(copy("transformer.ln_f.bias", "final_norm.bias", c));
        }
        if (!m.tied()) out.add(copy("lm_head.weight", "head.weight", v, c));
        return out;
    }

    /** The HF tensors (CPU, contiguous, float32) of Sprout's dense parameters, in transformers' order. */
    static Map<String, Tensor> toHf(ModelConfig m, Map<String, Tensor> sprout) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Rule r : rules(m)) {
            List<Tensor> parts = new ArrayList<>();
            for (String name : r.sprout()) {
                Tensor t = sprout.get(name);
                if (t == null) throw new IllegalArgumentException("no parameter " + name + " for " + r.hf());
                parts.add(t.detach().cpu().to(torch.ScalarType.Float));
            }
            Tensor t = switch (r.kind()) {
                case COPY -> parts.get(0);
                case TRANSPOSE -> parts.get(0).t();
                case CONCAT -> torch.cat(new TensorVector(parts.toArray(new Tensor[0])), 0);
                case CONCAT_TRANSPOSE -> torch.cat(new TensorVector(parts.toArray(new Tensor[0])), 0).t();
            };
            out.put(r.hf(), t.contiguous());
        }
        return out;
    }

    /** Sprout's parameters from the HF tensors (float32, shapes already checked against {@link #rules}), in the rules' order. */
    static Map<String, Tensor> toSprout(ModelConfig m, Map<String, Tensor> hf) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Rule r : rules(m)) {
            Tensor t = hf.get(r.hf());
            if (t == null) throw new IllegalArgumentException("no tensor " + r.hf());
            switch (r.kind()) {
                case COPY -> out.put(r.sprout().get(0), t.contiguous());
                case TRANSPOSE -> out.put(r.sprout().get(0), t.t().contiguous());
                case CONCAT, CONCAT_TRANSPOSE -> {
                    Tensor rows = r.kind() == Kind.CONCAT ? t : t.t();
                    long at = 0;
                    for (int i = 0; i < r.sprout().size(); i++) {
                        out.put(r.sprout().get(i), rows.narrow(0, at, r.rows()[i]).contiguous());
                        at += r.rows()[i];
                    }
                }
            }
        }
        return out;
    }

    private static Rule copy(String hf, String sprout, long... shape) {
        return new Rule(hf, shape, Kind.COPY, List.of(sprout), null);
    }

    /** A Conv1D weight: HF [in, out] for Sprout's [out, in]. */
    private static Rule transpose(String hf, String sprout, long in, long out) {
        return new Rule(hf, new long[]{in, out}, Kind.TRANSPOSE, List.of(sprout), null);
    }
}
