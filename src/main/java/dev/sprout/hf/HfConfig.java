package dev.sprout.hf;

import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sprout.config.ConfigException;
import dev.sprout.config.ModelConfig;
import java.util.Set;

/**
 * A Hugging Face folder's config.json and generation_config.json: written from a Sprout model config, and read back
 * against one. Absent fields take the defaults of transformers' GPT2Config and LlamaConfig, as transformers itself
 * would.
 */
final class HfConfig {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Two-space indent and "key": value, as Python's json.dump(indent=2) writes transformers' files. */
    static final ObjectWriter PRETTY = JSON.writer(new DefaultPrettyPrinter(Separators.createDefaultInstance()
            .withObjectFieldValueSpacing(Separators.Spacing.AFTER).withArrayEmptySeparator("").withObjectEmptySeparator(""))
            .withArrayIndenter(DefaultPrettyPrinter.NopIndenter.instance));

    private HfConfig() {}

    /**
     * config.json for a model of this (resolved) config, keys sorted as transformers writes them.
     *
     * @param eot the tokenizer's end-of-text token, written as bos_token_id and eos_token_id; -1 for none (char and byte
     *            vocabularies), written as null so that transformers' defaults (GPT-2's 50256, Llama's 1 and 2) do not
     *            name tokens of another vocabulary
     */
    static ObjectNode config(ModelConfig m, int eot) {
        ObjectNode c = JSON.createObjectNode();
        if (m.isLlama()) {
            c.putArray("architectures").add("LlamaForCausalLM");
            c.put("attention_bias", false);
            c.put("attention_dropout", 0.0);
            putToken(c, "bos_token_id", eot);
            putToken(c, "eos_token_id", eot);
            c.put("head_dim", m.headDim());
            c.put("hidden_act", "silu");
            c.put("hidden_size", m.dModel());
            c.put("initializer_range", m.initStd());
            c.put("intermediate_size", m.ffDim());
            c.put("max_position_embeddings", m.context());
            c.put("mlp_bias", false);
            c.put("model_type", "llama");
            c.put("num_attention_heads", m.nHead());
            c.put("num_hidden_layers", m.nLayer());
            c.put("num_key_value_heads", m.kvHeads());
            c.put("pretraining_tp", 1);
            c.put("rms_norm_eps", m.normEps());
            c.putNull("rope_scaling");
            c.put("rope_theta", m.ropeTheta());
        } else {
            c.put("activation_function", "gelu_new"); // Sprout's GELU is the tanh approximation
            c.putArray("architectures").add("GPT2LMHeadModel");
            c.put("attn_pdrop", 0.0); // Sprout trains without dropout
            putToken(c, "bos_token_id", eot);
            c.put("embd_pdrop", 0.0);
            putToken(c, "eos_token_id", eot);
            c.put("initializer_range", m.initStd());
            c.put("layer_norm_epsilon", m.normEps());
            c.put("model_type", "gpt2");
            c.put("n_ctx", m.positions()); // read by transformers before 4.13 for the attention mask's size
            c.put("n_embd", m.dModel());
            c.put("n_head", m.nHead());
            c.put("n_inner", m.ffDim());
            c.put("n_layer", m.nLayer());
            c.put("n_positions", m.positions());
            c.put("reorder_and_upcast_attn", false);
            c.put("resid_pdrop", 0.0);
            c.put("scale_attn_by_inverse_layer_idx", false);
            c.put("scale_attn_weights", true);
        }
        c.put("tie_word_embeddings", m.tied());
        c.put("torch_dtype", "float32");
        c.put("use_cache", true);
        c.put("vocab_size", m.vocabSize());
        return c;
    }

    /** generation_config.json: the special tokens (when the tokenizer has an end-of-text token). */
    static ObjectNode generationConfig(int eot) {
        ObjectNode g = JSON.createObjectNode();
        g.put("_from_model_config", true);
        if (eot >= 0) g.put("bos_token_id", eot).put("eos_token_id", eot);
        return g;
    }

    private static void putToken(ObjectNode c, String field, int id) {
        if (id >= 0) c.put(field, id);
        else c.putNull(field);
    }

    static final Set<String> MODEL_TYPES = Set.of("gpt2", "llama");

    /**
     * Fails with one line ({@code where}: config.json's FIELD VALUE does not match model.KEY VALUE) unless config.json
     * describes exactly the architecture of {@code m}: family, sizes, norms, activation, RoPE and tying.
     */
    static void check(JsonNode c, ModelConfig m, String where) {
        Checker k = new Checker(c, where, "config.json's ");
        JsonNode type = c.get("model_type");
        if (type == null || !type.isTextual()) throw new ConfigException(where + ": config.json has no model_type");
        if (!MODEL_TYPES.contains(type.asText())) {
            throw new ConfigException(where + ": config.json's model_type " + type.asText() + " is not supported (Sprout reads gpt2 and llama)");
        }
        k.equal("model_type", null, "model.family", m.family());
        if (m.isLlama()) {
            k.equal("vocab_size", 32000, "model.vocab_size", m.vocabSize());
            k.equal("hidden_size", 4096, "model.d_model", m.dModel());
            k.equal("num_hidden_layers", 32, "model.n_layer", m.nLayer());
            int heads = k.integer("num_attention_heads", 32);
            k.equal("num_attention_heads", 32, "model.n_head", m.nHead());
            k.equal("num_key_value_heads", heads, "model.n_kv_head", m.kvHeads());
            int headDim = k.integer("head_dim", m.headDim());
            if (headDim != m.headDim()) {
                throw new ConfigException(where + ": config.json's head_dim " + headDim + " is not supported (Sprout's head size is model.d_model / model.n_head = " + m.headDim() + ")");
            }
            k.equal("intermediate_size", 11008, "model.d_ff", m.ffDim());
            k.equal("rms_norm_eps", 1e-6, "model.norm_eps", m.normEps());
            JsonNode rope = c.get("rope_parameters"); // transformers 5 keeps rope_theta and the rope type here
            if (rope != null && rope.isObject()) {
                Checker r = new Checker(rope, where, "config.json's rope_parameters.");
                r.fixed("rope_type", "default", "Sprout's RoPE has no scaling");
                r.equal("rope_theta", 10000.0, "model.rope_theta", m.ropeTheta());
            } else {
                k.equal("rope_theta", 10000.0, "model.rope_theta", m.ropeTheta());
            }
            JsonNode scaling = c.get("rope_scaling");
            if (scaling != null && !scaling.isNull()) {
                throw new ConfigException(where + ": config.json's rope_scaling " + scaling + " is not supported (Sprout's RoPE has no scaling)");
            }
            int positions = k.integer("max_position_embeddings", 2048);
            if (positions < m.context()) {
                throw new ConfigException(where + ": config.json's max_position_embeddings " + positions + " is shorter than model.context " + m.context());
            }
            k.fixed("hidden_act", "silu", "Sprout's Llama MLP is SwiGLU");
            k.fixed("attention_bias", false, "Sprout's Llama has no biases");
            k.fixed("mlp_bias", false, "Sprout's Llama has no biases");
            k.equal("tie_word_embeddings", false, "model.tie_embeddings", m.tied());
        } else {
            k.equal("vocab_size", 50257, "model.vocab_size", m.vocabSize());
            k.equal("n_positions", 1024, "model.max_positions", m.positions());
            k.equal("n_embd", 768, "model.d_model", m.dModel());
            k.equal("n_layer", 12, "model.n_layer", m.nLayer());
            k.equal("n_head", 12, "model.n_head", m.nHead());
            k.equal("n_inner", 4 * k.integer("n_embd", 768), "model.d_ff", m.ffDim());
            k.equal("layer_norm_epsilon", 1e-5, "model.norm_eps", m.normEps());
            String act = k.text("activation_function", "gelu_new");
            if (!act.equals("gelu_new") && !act.equals("gelu_pytorch_tanh")) {
                throw new ConfigException(where + ": config.json's activation_function " + act + " is not supported (Sprout's GPT-2 uses the tanh GELU, gelu_new)");
            }
            k.fixed("scale_attn_weights", true, "Sprout scales attention scores by 1/sqrt(head size)");
            k.fixed("scale_attn_by_inverse_layer_idx", false, "Sprout scales attention scores by 1/sqrt(head size) only");
            k.fixed("add_cross_attention", false, "Sprout's GPT-2 is decoder-only");
            k.equal("tie_word_embeddings", true, "model.tie_embeddings", m.tied());
        }
    }

    /** Reads config.json fields (or those of a nested object, named with {@code prefix}) with transformers' defaults for absent or null ones. */
    private record Checker(JsonNode c, String where, String prefix) {
        JsonNode field(String name) {
            JsonNode n = c.get(name);
            return n == null || n.isNull() ? null : n;
        }

        int integer(String name, int dflt) {
            JsonNode n = field(name);
            if (n == null) return dflt;
            if (!n.canConvertToExactIntegral() || !n.canConvertToInt()) throw new ConfigException(where + ": " + prefix + name + " " + n + " is not an integer");
            return n.asInt();
        }

        String text(String name, String dflt) {
            JsonNode n = field(name);
            return n == null ? dflt : n.asText();
        }

        /** The field (or its default) equals Sprout's value of key; integers and doubles compare as numbers. */
        void equal(String name, Object dflt, String key, Object want) {
            JsonNode n = field(name);
            Object have;
            if (n == null) {
                if (dflt == null) throw new ConfigException(where + ": config.json lacks " + name);
                have = dflt;
            } else if (want instanceof Integer) {
                have = n.canConvertToExactIntegral() ? (Object) n.asInt() : n.toString();
            } else if (want instanceof Double) {
                have = n.isNumber() ? (Object) n.asDouble() : n.toString();
            } else if (want instanceof Boolean) {
                have = n.isBoolean() ? (Object) n.asBoolean() : n.toString();
            } else {
                have = n.asText();
            }
            if (!have.equals(want)) throw new ConfigException(where + ": " + prefix + name + " " + have + " does not match " + key + " " + want);
        }

        /** The field, when present, must be this value for Sprout to compute the same model (transformers' default is). */
        void fixed(String name, Object value, String why) {
            JsonNode n = field(name);
            if (n == null) return;
            Object have = value instanceof Boolean ? (n.isBoolean() ? (Object) n.asBoolean() : n.toString()) : n.asText();
            if (!have.equals(value)) {
                throw new ConfigException(where + ": " + prefix + name + " " + (n.isTextual() ? n.asText() : n.toString()) + " is not supported (" + why + ")");
            }
        }
    }
}
