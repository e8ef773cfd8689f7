package dev.sprout.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sprout.config.ConfigException;
import dev.sprout.config.ModelConfig;
import dev.sprout.model.Transformer;
import dev.sprout.tensor.Safetensors;
import dev.sprout.tensor.Tensors;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Sprout -> HF -> Sprout keeps every parameter bit for bit; a folder that does not fit the model fails with one line naming what. */
class HfRoundTripTest {
    @TempDir
    Path tmp;

    static ModelConfig config(String family, String tie, int kvHeads) {
        return HfTestModels.resolved(new ModelConfig(family, 3, 4, kvHeads, 16, 0, 8, 8, family.equals("gpt2") ? 12 : 0, 23, tie,
                1e-5, 20000, 0.02));
    }

    @ParameterizedTest
    @CsvSource({"gpt2, auto, 0", "gpt2, false, 0", "llama, auto, 2", "llama, true, 1", "llama, false, 4"})
    void sproutToHfToSproutIsBitIdentical(String family, String tie, int kvHeads) throws IOException {
        ModelConfig m = config(family, tie, kvHeads);
        Transformer model = HfTestModels.seeded(m, 7);
        HfExport.write(tmp, m, model.parameters(), -1);
        Map<String, Tensor> back = HfImport.read(tmp, m, "--init-from");
        assertEquals(model.parameters().keySet(), back.keySet(), "the same parameters, in the model's order");
        for (var e : model.parameters().entrySet()) {
            Tensor got = back.get(e.getKey());
            assertArrayEquals(Tensors.shape(e.getValue()), Tensors.shape(got), e.getKey());
            assertEquals("Float", String.valueOf(got.scalar_type()), e.getKey());
            assertArrayEquals(bits(e.getValue()), bits(got), e.getKey() + " changed in the round trip");
        }
        try (FileChannel ch = FileChannel.open(tmp.resolve("model.safetensors"), StandardOpenOption.READ)) {
            Safetensors.Header h = Safetensors.readHeader(ch);
            assertEquals(Map.of("format", "pt"), h.metadata(), "transformers refuses safetensors without format=pt");
            assertEquals(!m.tied(), h.entries().containsKey("lm_head.weight"), "lm_head.weight only when untied");
            if (!m.isLlama()) {
                assertArrayEquals(new long[]{16, 48}, h.entries().get("transformer.h.0.attn.c_attn.weight").shape(), "Conv1D [in, 3 out]");
                assertArrayEquals(new long[]{16, 64}, h.entries().get("transformer.h.2.mlp.c_fc.weight").shape(), "Conv1D [in, out]");
            } else {
                assertArrayEquals(new long[]{4L * kvHeads, 16}, h.entries().get("model.layers.1.self_attn.k_proj.weight").shape());
            }
        }
    }

    private static int[] bits(Tensor t) {
        float[] f = Tensors.toFloats(t);
        int[] b = new int[f.length];
        for (int i = 0; i < f.length; i++) b[i] = Float.floatToRawIntBits(f[i]);
        return b;
    }

    @Test
    void configJsonCarriesTheModelAndTheEndOfTextToken() throws IOException {
        ModelConfig m = config("gpt2", "auto", 0);
        HfExport.write(tmp, m, HfTestModels.seeded(m, 1).parameters(), 22);
        var c = HfConfig.JSON.readTree(tmp.resolve("config.json").toFile());
        assertEquals("gpt2", c.get("model_type").asText());
        assertEquals("GPT2LMHeadModel", c.get("architectures").get(0).asText());
        assertEquals(12, c.get("n_positions").asInt());
        assertEquals(64, c.get("n_inner").asInt());
        assertEquals("gelu_new", c.get("activation_function").asText());
        assertEquals(22, c.get("bos_token_id").asInt());
        assertEquals(22, c.get("eos_token_id").asInt());
        var g = HfConfig.JSON.readTree(tmp.resolve("generation_config.json").toFile());
        assertEquals(22, g.get("eos_token_id").asInt());

        Path llama = Files.createDirectories(tmp.resolve("llama"));
        ModelConfig l = config("llama", "auto", 2);
        HfExport.write(llama, l, HfTestModels.seeded(l, 1).parameters(), -1);
        c = HfConfig.JSON.readTree(llama.resolve("config.json").toFile());
        assertEquals(2, c.get("num_key_value_heads").asInt());
        assertEquals(8, c.get("max_position_embeddings").asInt());
        assertEquals(20000.0, c.get("rope_theta").asDouble());
        assertFalse(c.get("tie_word_embeddings").asBoolean());
        assertTrue(c.get("bos_token_id").isNull() && c.get("eos_token_id").isNull(), "no end-of-text token: explicit nulls, not Llama's defaults 1 and 2");
    }

    /** A folder exported from {@code m}, then changed by {@code edit}; the error reading it as {@code target}. */
    private String error(ModelConfig m, ModelConfig target, Consumer<Path> edit) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("case-" + System.nanoTime()));
        HfExport.write(dir, m, HfTestModels.seeded(m, 3).parameters(), -1);
        edit.accept(dir);
        ConfigException e = assertThrows(ConfigException.class, () -> HfImport.read(dir, target, "--init-from"));
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        assertTrue(e.getMessage().startsWith("--init-from " + dir + ": "), e.getMessage());
        return e.getMessage().substring(("--init-from " + dir + ": ").length());
    }

    private static void editConfig(Path dir, Consumer<ObjectNode> edit) {
        try {
            ObjectNode c = (ObjectNode) HfConfig.JSON.readTree(dir.resolve("config.json").toFile());
            edit.accept(c);
            Files.writeString(dir.resolve("config.json"), c.toString());
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    private static void editTensors(Path dir, Consumer<Map<String, Tensor>> edit) {
        try (PointerScope scope = new PointerScope()) {
            Path file = dir.resolve("model.safetensors");
            Map<String, Tensor> t = new LinkedHashMap<>();
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                Safetensors.Header h = Safetensors.readHeader(ch);
                for (Safetensors.Entry e : h.entries().values()) t.put(e.name(), Safetensors.read(ch, h, e));
            }
            edit.accept(t);
            Safetensors.write(file, t, Map.of("format", "pt"));
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    @Test
    void aFolderThatDoesNotFitFailsWithOneLineNamingTheFieldOrTensor() throws IOException {
        ModelConfig gpt2 = config("gpt2", "auto", 0), llama = config("llama", "auto", 2);
        ModelConfig twoHeads = HfTestModels.resolved(new ModelConfig("gpt2", 3, 2, 0, 16, 0, 8, 8, 12, 23, "auto", 1e-5, 20000, 0.02));
        assertEquals("config.json's n_head 4 does not match model.n_head 2", error(gpt2, twoHeads, d -> {}));
        assertEquals("config.json's model_type gpt2 does not match model.family llama", error(gpt2, llama, d -> {}));
        assertEquals("config.json's model_type mistral is not supported (Sprout reads gpt2 and llama)",
                error(llama, llama, d -> editConfig(d, c -> c.put("model_type", "mistral"))));
        assertEquals("config.json's num_key_value_heads 2 does not match model.n_kv_head 1", error(llama, config("llama", "auto", 1), d -> {}));
        assertEquals("config.json's rope_theta 10000.0 does not match model.rope_theta 20000.0",
                error(llama, llama, d -> editConfig(d, c -> c.remove("rope_theta"))));
        assertEquals("config.json's rms_norm_eps 1.0E-6 does not match model.norm_eps 1.0E-5",
                error(llama, llama, d -> editConfig(d, c -> c.remove("rms_norm_eps"))));
        assertEquals("config.json's max_position_embeddings 4 is shorter than model.context 8",
                error(llama, llama, d -> editConfig(d, c -> c.put("max_position_embeddings", 4))));
        assertEquals("config.json's rope_scaling {\"type\":\"linear\",\"factor\":2.0} is not supported (Sprout's RoPE has no scaling)",
                error(llama, llama, d -> editConfig(d, c -> c.putObject("rope_scaling").put("type", "linear").put("factor", 2.0))));
        assertEquals("config.json's hidden_act gelu is not supported (Sprout's Llama MLP is SwiGLU)",
                error(llama, llama, d -> editConfig(d, c -> c.put("hidden_act", "gelu"))));
        assertEquals("config.json's activation_function relu is not supported (Sprout's GPT-2 uses the tanh GELU, gelu_new)",
                error(gpt2, gpt2, d -> editConfig(d, c -> c.put("activation_function", "relu"))));
        assertEquals("config.json's tie_word_embeddings true does not match model.tie_embeddings false",
                error(llama, config("llama", "false", 2), d -> editConfig(d, c -> c.put("tie_word_embeddings", true))));
        assertEquals("config.json's n_inner 64 does not match model.d_ff 32",
                error(gpt2, HfTestModels.resolved(new ModelConfig("gpt2", 3, 4, 0, 16, 32, 8, 8, 12, 23, "auto", 1e-5, 20000, 0.02)), d -> {}));
        assertTrue(error(gpt2, gpt2, d -> write(d.resolve("config.json"), "{\"model_type\": \"gpt2\"")).startsWith("config.json is not readable JSON ("));

        assertEquals("model.safetensors lacks tensor transformer.h.1.ln_2.bias",
                error(gpt2, gpt2, d -> editTensors(d, t -> t.remove("transformer.h.1.ln_2.bias"))));
        assertEquals("tensor transformer.h.0.attn.c_attn.weight has shape [48, 16] where this model needs [16, 48]",
                error(gpt2, gpt2, d -> editTensors(d, t -> t.put("transformer.h.0.attn.c_attn.weight", t.get("transformer.h.0.attn.c_attn.weight").t().contiguous()))));
        assertEquals("model.safetensors has tensor transformer.h.0.attn.q_bias, which a gpt2 model of this config has no place for",
                error(gpt2, gpt2, d -> editTensors(d, t -> t.put("transformer.h.0.attn.q_bias", torch.zeros(16)))));
        assertEquals("tensor model.norm.weight has dtype I64 (Sprout reads F32, F16, BF16 and F64)",
                error(llama, llama, d -> editTensors(d, t -> t.put("model.norm.weight", torch.zeros(16).to(torch.ScalarType.Long)))));
        assertTrue(error(llama, llama, d -> truncate(d.resolve("model.safetensors"), 100)).startsWith("model.safetensors is truncated (tensor "));
    }

    @Test
    void buffersTiedHeadCopiesAndHalfPrecisionAreRead() throws IOException {
        ModelConfig m = config("gpt2", "auto", 0);
        Transformer model = HfTestModels.seeded(m, 5);
        HfExport.write(tmp, m, model.parameters(), -1);
        editTensors(tmp, t -> {
            t.put("transformer.h.0.attn.bias", torch.ones(12, 12).tril().view(1, 1, 12, 12)); // old GPT-2 buffers
            t.put("transformer.h.0.attn.masked_bias", torch.tensor(-1e4f));
            t.put("lm_head.weight", t.get("transformer.wte.weight")); // a tied head saved anyway
            t.put("transformer.wpe.weight", t.get("transformer.wpe.weight").to(torch.ScalarType.Half));
            t.put("transformer.h.2.ln_1.weight", t.get("transformer.h.2.ln_1.weight").to(torch.ScalarType.BFloat16));
        });
        Map<String, Tensor> back = HfImport.read(tmp, m, "--init-from");
        float[] want = Tensors.toFloats(model.param("embed.positions").to(torch.ScalarType.Half)), got = Tensors.toFloats(back.get("embed.positions"));
        assertArrayEquals(want, got, "float16 is read as float32, exactly");
        want = Tensors.toFloats(model.param("blocks.2.attn_norm.weight").to(torch.ScalarType.BFloat16));
        assertArrayEquals(want, Tensors.toFloats(back.get("blocks.2.attn_norm.weight")), "bfloat16 is read as float32, exactly");
        assertArrayEquals(Tensors.toFloats(model.param("embed.tokens")), Tensors.toFloats(back.get("embed.tokens")));
    }

    private static void write(Path file, String text) {
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    private static void truncate(Path file, long bytesLess) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - bytesLess);
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }
}
