package dev.sprout.cli;

import dev.sprout.config.ConfigLoader;
import dev.sprout.config.SproutConfig;
import dev.sprout.data.HfTokenizerFiles;
import dev.sprout.data.Tokenizer;
import dev.sprout.data.TokenizerFiles;
import dev.sprout.hf.HfExport;
import dev.sprout.train.AtomicFiles;
import dev.sprout.train.Backend;
import dev.sprout.train.Checkpoints;
import dev.sprout.train.RunInfo;
import dev.sprout.train.RunTokenizer;
import dev.sprout.train.RunWeights;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Write a run's newest weights as a dense model (low-rank adapters merged: W + s B A) into a new folder, which appears whole or not at all.",
                "--format sprout: a Sprout folder that `sample --run` reads and `train --init-from` starts from, with the run's tokenizer.",
                "--format hf: a Hugging Face transformers folder that GPT2LMHeadModel / LlamaForCausalLM.from_pretrained and `train --init-from` read,",
                "with the run's tokenizer as tokenizer.json and tokenizer_config.json."})
final class ExportCommand implements Callable<Integer> {
    @Option(names = "--run", required = true, paramLabel = "RUN_DIR", description = "The run to export.")
    Path run;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "A new folder for the dense model.")
    Path out;

    @Option(names = "--format", defaultValue = "sprout", paramLabel = "FORMAT",
            description = "sprout: config.yaml, run.json and a checkpoint | hf: config.json, generation_config.json and model.safetensors "
                    + "(float32; GPT-2 as GPT2LMHeadModel, Llama as LlamaForCausalLM) plus tokenizer.json and tokenizer_config.json (default: ${DEFAULT-VALUE}).")
    String format;

    @Override
    public Integer call() throws Exception {
        if (!format.equals("sprout") && !format.equals("hf")) throw new Sprout.UserException("--format: expected sprout | hf, found '" + format + "'");
        if (Files.exists(out)) throw new Sprout.UserException("--out: " + out + " already exists; choose a new folder");
        Tokenizer tok = RunTokenizer.read(run); // first: a run whose vocabulary is lost is not worth reading weights for
        Backend.init(1);
        RunWeights w = RunWeights.read(run);
        RunInfo info = RunInfo.read(run);
        if (format.equals("hf")) {
            AtomicFiles.newFolder(out, dir -> {
                HfExport.write(dir, w.config().model(), w.dense(), tok.eotToken());
                HfTokenizerFiles.write(dir, tok, w.config().model().context());
            });
            System.out.printf("export: %s (%s, step %d) -> %s: Hugging Face %s folder, %d dense tensors, %s tokenizer%n", run, w.config().method().name(), w.step(), out,
                    w.config().model().family(), w.dense().size(), tok.name());
            return 0;
        }
        SproutConfig dense = w.config().withMethod(w.config().method().withName("baseline"));
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        w.dense().forEach((k, v) -> tensors.put("param." + k, v));
        var state = ConfigLoader.YAML.createObjectNode();
        state.put("format_version", 1).put("step", w.step()).put("config", ConfigLoader.toYaml(dense))
                .put("exported_from", run.toAbsolutePath().toString()).put("exported_method", w.config().method().name());
        state.set("tokenizer", tok.spec().toJson());
        AtomicFiles.newFolder(out, dir -> {
            new RunInfo(info.dataDir(), info.dataFingerprint(), info.tokenizer()).write(dir);
            TokenizerFiles.write(dir, tok);
            AtomicFiles.write(dir.resolve("config.yaml"), ConfigLoader.toYaml(dense));
            try (PointerScope scope = new PointerScope()) {
                new Checkpoints(dir.resolve("checkpoints"), 1).save(w.step(), tensors, state);
            }
        });
        System.out.printf("export: %s (%s, step %d) -> %s: %d dense tensors%n", run, w.config().method().name(), w.step(), out, tensors.size());
        return 0;
    }
}
