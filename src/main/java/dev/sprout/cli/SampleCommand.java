package dev.sprout.cli;

import dev.sprout.config.ConfigLoader;
import dev.sprout.config.SproutConfig;
import dev.sprout.data.Tokenizer;
import dev.sprout.tensor.Tensors;
import dev.sprout.method.Methods;
import dev.sprout.model.Transformer;
import dev.sprout.subnet.SubnetPlan;
import dev.sprout.train.Backend;
import dev.sprout.train.CheckpointException;
import dev.sprout.train.Checkpoints;
import dev.sprout.train.RunTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `sprout sample`: generate text from a run's newest intact checkpoint. */
@Command(name = "sample", mixinStandardHelpOptions = true, description = "Generate text from a trained run.")
final class SampleCommand implements Callable<Integer> {
    @Option(names = "--run", required = true, paramLabel = "RUN_DIR", description = "Run folder written by `sprout train`.")
    Path run;

    @Option(names = "--prompt", defaultValue = "\n", paramLabel = "TEXT", description = "Text to continue (default: a newline).")
    String prompt;

    @Option(names = "--tokens", defaultValue = "200", paramLabel = "N", description = "Tokens to generate (default: ${DEFAULT-VALUE}).")
    int tokens;

    @Option(names = "--temperature", defaultValue = "0.8", description = "Softmax temperature; 0 = greedy (default: ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--top-k", defaultValue = "200", description = "Sample among the k most likely tokens; 0 = all (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--top-p", defaultValue = "1.0", description = "Sample among the most likely tokens whose probabilities sum to p (nucleus); 1 = all (default: ${DEFAULT-VALUE}).")
    double topP;

    @Option(names = "--seed", defaultValue = "1337", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() {
        if (tokens < 1) throw new Sprout.UserException("--tokens: must be >= 1, got " + tokens);
        if (temperature < 0) throw new Sprout.UserException("--temperature: must be >= 0, got " + temperature);
        if (topK < 0) throw new Sprout.UserException("--top-k: must be >= 0, got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new Sprout.UserException("--top-p: must be in (0, 1], got " + topP);
        if (!Files.isRegularFile(run.resolve("config.yaml"))) throw new Sprout.UserException("--run: " + run + " is not a run folder (no config.yaml)");
        SproutConfig cfg = ConfigLoader.bind(ConfigLoader.readYaml(run.resolve("config.yaml")));
        Tokenizer tok = RunTokenizer.read(run); // the run's own: never a vocabulary prepared later where its data was
        Backend.init(cfg.threads());
        Transformer model = new Transformer(cfg.model(), Backend.device(cfg.device()), cfg.seed());
        Methods.build(cfg).setup(model); // the run's adapters, if its method has them, so every checkpoint tensor has a home
        Checkpoints.Loaded ck = new Checkpoints(run.resolve("checkpoints"), Integer.MAX_VALUE).latestIntact(System.err::println);
        if (ck == null) throw new CheckpointException("no intact checkpoint in " + run.resolve("checkpoints"));
        // stderr: the sample itself stays clean on stdout
        System.err.println("sample: " + ck.file() + (ck.state() != null && ck.state().has("step") ? " (step " + ck.state().get("step").asLong() + ")" : ""));
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            for (var e : model.parameters().entrySet()) Checkpoints.copyInto(ck, "param." + e.getKey(), e.getValue());
        }
        List<Integer> ids = new ArrayList<>();
        for (int id : tok.encode(prompt)) ids.add(id);
        if (ids.isEmpty()) throw new Sprout.UserException("--prompt: encodes to no tokens");
        System.out.print(prompt);
        torch.manual_seed(seed);
        int ctx = cfg.model().context();
        SubnetPlan full = SubnetPlan.full(cfg.model().nLayer());
        List<Integer> generated = new ArrayList<>();
        int printed = 0;
        for (int i = 0; i < tokens; i++) {
            int next;
            try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
                int from = Math.max(0, ids.size() - ctx);
                long[] window = ids.subList(from, ids.size()).stream().mapToLong(Integer::longValue).toArray();
                Tensor logits = model.logits(Tensors.longTensor(window, model.device(), 1, window.length), full)
                        .select(0, 0).select(0, window.length - 1); // [V]
                // a model's vocabulary may be padded past its tokenizer's (GPT-2's 50304): only the tokenizer's ids decode
                if (logits.size(0) > tok.vocabSize()) logits = logits.narrow(0, 0, tok.vocabSize());
                if (temperature == 0) {
                    next = (int) logits.argmax().item_long();
                } else {
                    logits = logits.div(new Scalar(temperature));
                    if (topK > 0 && topK < logits.size(0)) {
                        Tensor kth = torch.topk(logits, topK).get0().select(0, topK - 1);
                        logits = logits.masked_fill(logits.lt(kth), new Scalar(Double.NEGATIVE_INFINITY));
                    }
                    if (topP < 1) logits = nucleus(logits, topP);
                    next = (int) torch.multinomial(torch.softmax(logits, 0), 1).item_long();
                }
            }
            ids.add(next);
            generated.add(next);
            // decode the whole continuation so multi-byte characters split across tokens print whole
            String text = tok.decode(generated.stream().mapToInt(Integer::intValue).toArray());
            if (!text.endsWith("\uFFFD") && text.length() > printed) {
                System.out.print(text.substring(printed));
                printed = text.length();
                System.out.flush();
            }
        }
        String text = tok.decode(generated.stream().mapToInt(Integer::intValue).toArray());
        if (text.length() > printed) System.out.print(text.substring(printed)); // an incomplete character at the very end
        System.out.println();
        return 0;
    }

    /**
     * Top-p (nucleus) filtering of one token's logits [V]: keeps the most likely tokens while the probability of those
     * more likely than each is below p (so at least the most likely one), and sets the others to -inf.
     */
    static Tensor nucleus(Tensor logits, double p) {
        var sorted = torch.sort(logits, 0, true);
        Tensor probs = torch.softmax(sorted.get0(), 0);
        Tensor before = probs.cumsum(0).sub(probs); // the mass of the tokens more likely than each
        Tensor drop = before.ge(new Scalar(p));
        Tensor dropByToken = torch.zeros_like(drop).scatter(0, sorted.get1(), drop);
        return logits.masked_fill(dropByToken, new Scalar(Double.NEGATIVE_INFINITY));
    }
}
