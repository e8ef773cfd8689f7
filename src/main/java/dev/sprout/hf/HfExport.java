package dev.sprout.hf;

import dev.sprout.config.ModelConfig;
import dev.sprout.tensor.Safetensors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * Writes a model as a Hugging Face transformers folder: {@code config.json}, {@code generation_config.json} and
 * {@code model.safetensors} (float32, {@link HfLayout}'s names), which {@code GPT2LMHeadModel.from_pretrained} or
 * {@code LlamaForCausalLM.from_pretrained} load and {@code train --init-from} reads back. The same weights and config
 * give byte-identical files. The tokenizer files go beside them from the caller ({@code HfTokenizerFiles}): this package
 * knows models, not tokenizers.
 */
public final class HfExport {
    public static final String CONFIG = "config.json";
    public static final String GENERATION_CONFIG = "generation_config.json";
    public static final String WEIGHTS = "model.safetensors";

    private HfExport() {}

    /**
     * Writes the three files into {@code dir}, an existing folder; callers that need the folder whole or not at all
     * fill a temporary one and rename it.
     *
     * @param model the model's resolved config
     * @param dense every dense parameter by Sprout's name (adapters merged), on any device
     * @param eot   the tokenizer's end-of-text token (bos and eos), or -1 when it has none
     * @return the files written
     */
    public static List<Path> write(Path dir, ModelConfig model, Map<String, Tensor> dense, int eot) throws IOException {
        Path config = dir.resolve(CONFIG), generation = dir.resolve(GENERATION_CONFIG), weights = dir.resolve(WEIGHTS);
        Files.writeString(config, HfConfig.PRETTY.writeValueAsString(HfConfig.config(model, eot)) + "\n", StandardCharsets.UTF_8);
        Files.writeString(generation, HfConfig.PRETTY.writeValueAsString(HfConfig.generationConfig(eot)) + "\n", StandardCharsets.UTF_8);
        try (PointerScope scope = new PointerScope()) {
            Safetensors.write(weights, HfLayout.toHf(model, dense), Map.of("format", "pt"));
        }
        return List.of(config, generation, weights);
    }
}
