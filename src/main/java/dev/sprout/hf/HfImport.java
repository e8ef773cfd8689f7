package dev.sprout.hf;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sprout.config.ConfigException;
import dev.sprout.config.ModelConfig;
import dev.sprout.tensor.Safetensors;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Reads a Hugging Face transformers folder ({@code config.json} and {@code model.safetensors}) of a GPT-2 or Llama into
 * Sprout's parameters, after checking that it describes exactly the caller's model. Float32, float16, bfloat16 and
 * float64 weights are read as float32. Tensor names may carry the causal-LM prefix ({@code transformer.}, {@code model.})
 * or not (checkpoints saved from the bare GPT2Model / LlamaModel). Buffers that old checkpoints carry (GPT-2's
 * {@code attn.bias} and {@code attn.masked_bias}, Llama's {@code rotary_emb.inv_freq}) and a tied model's
 * {@code lm_head.weight} are ignored; any other tensor that the model has no place for is an error.
 */
public final class HfImport {
    private HfImport() {}

    /** Whether {@code dir} looks like a Hugging Face folder: config.json and model.safetensors. */
    public static boolean isHfFolder(Path dir) {
        return Files.isRegularFile(dir.resolve(HfExport.CONFIG)) && Files.isRegularFile(dir.resolve(HfExport.WEIGHTS));
    }

    /**
     * Sprout's dense parameters (CPU, float32, by Sprout's names, in the model's order) from the folder.
     *
     * @param target the resolved config of the model that takes them
     * @param option the option that named the folder, for errors ("--init-from")
     * @throws ConfigException one line naming the folder and the first field or tensor that does not fit
     */
    public static Map<String, Tensor> read(Path dir, ModelConfig target, String option) {
        String where = option + " " + dir;
        JsonNode config;
        try {
            config = HfConfig.JSON.readTree(dir.resolve(HfExport.CONFIG).toFile());
        } catch (IOException e) {
            throw new ConfigException(where + ": config.json is not readable JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        if (config == null || !config.isObject()) throw new ConfigException(where + ": config.json is not a JSON object");
        HfConfig.check(config, target, where);
        Path file = dir.resolve(HfExport.WEIGHTS);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            Safetensors.Header header = Safetensors.readHeader(ch);
            String base = target.isLlama() ? "model." : "transformer.";
            String first = target.isLlama() ? "model.embed_tokens.weight" : "transformer.wte.weight";
            // a checkpoint of the bare base model names its tensors without the prefix
            boolean bare = !header.entries().containsKey(first) && header.entries().containsKey(first.substring(base.length()));
            Map<String, Tensor> hf = new LinkedHashMap<>();
            Set<String> used = new HashSet<>();
            for (HfLayout.Rule r : HfLayout.rules(target)) {
                String name = bare && r.hf().startsWith(base) ? r.hf().substring(base.length()) : r.hf();
                Safetensors.Entry e = header.entries().get(name);
                if (e == null) throw new ConfigException(where + ": model.safetensors lacks tensor " + name);
                if (!Arrays.equals(e.shape(), r.shape())) {
                    throw new ConfigException(where + ": tensor " + name + " has shape " + Arrays.toString(e.shape()) + " where this model needs " + Arrays.toString(r.shape()));
                }
                if (!FLOATS.contains(e.dtype())) {
                    throw new ConfigException(where + ": tensor " + name + " has dtype " + e.dtype() + " (Sprout reads F32, F16, BF16 and F64)");
                }
                used.add(name);
                Tensor t = Safetensors.read(ch, header, e);
                hf.put(r.hf(), e.dtype().equals("F32") ? t : t.to(torch.ScalarType.Float));
            }
            for (String name : header.entries().keySet()) {
                if (!used.contains(name) && !ignored(name, target)) {
                    throw new ConfigException(where + ": model.safetensors has tensor " + name + ", which a " + target.family() + " model of this config has no place for");
                }
            }
            return HfLayout.toSprout(target, hf);
        } catch (Safetensors.FormatException e) {
            throw new ConfigException(where + ": model.safetensors " + e.getMessage());
        } catch (IOException e) {
            throw new ConfigException(where + ": cannot read model.safetensors (" + e.getMessage() + ")");
        }
    }

    private static final Set<String> FLOATS = Set.of("F32", "F16", "BF16", "F64");

    /** Tensors that HF checkpoints may carry beside the weights: buffers, and the copy of a tied embedding. */
    private static boolean ignored(String name, ModelConfig target) {
        if (name.equals("lm_head.weight")) return target.tied();
        if (target.isLlama()) return name.endsWith(".rotary_emb.inv_freq");
        return name.endsWith(".attn.bias") || name.endsWith(".attn.masked_bias");
    }
}
