package dev.sprout.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sprout.config.ConfigLoader;
import dev.sprout.config.MethodConfig;
import dev.sprout.config.SproutConfig;
import dev.sprout.method.Est;
import dev.sprout.method.TrainingMethod;
import dev.sprout.data.BatchSampler;
import dev.sprout.data.TokenDataset;
import dev.sprout.model.Transformer;
import dev.sprout.optim.AdamW;
import dev.sprout.subnet.SubnetPlan;
import dev.sprout.train.Backend;
import dev.sprout.train.DataLink;
import dev.sprout.train.FlopsAccountant;
import dev.sprout.train.MethodTraining;
import dev.sprout.train.TrainStep;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `sprout bench`: times training steps of a config and prints one JSON line. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Time N training steps; print one JSON line with tokens_per_s, median_step_ms, gflops_per_s and mfu.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--config", required = true, paramLabel = "FILE", description = "Run configuration (YAML).")
    Path config;

    @Option(names = "--data", paramLabel = "DIR", description = "Prepared data folder (default: the built-in corpus).")
    Path data;

    @Option(names = "--steps", defaultValue = "20", paramLabel = "N", description = "Timed steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--warmup", defaultValue = "3", paramLabel = "N", description = "Untimed steps first (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a config key (repeatable).")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--subnet", paramLabel = "layers=P,heads=P,mlp=P",
            description = "Also time a fixed-rate subnetwork step (EST's stage-1 sampler), interleaved with the full step; adds flops_fraction and time_fraction.")
    String subnet;

    @Option(names = "--method", description = "Also time the config's method (method.name: its adapters, swaps, projections, plans) on a model of its "
            + "own, stepped as training steps it from step 0, interleaved with the dense step; adds method_median_step_ms, flops_fraction, time_fraction and time_over_flops.")
    boolean method;

    @Override
    public Integer call() throws Exception {
        if (steps < 1) throw new Sprout.UserException("--steps: must be >= 1, got " + steps);
        if (warmup < 0) throw new Sprout.UserException("--warmup: must be >= 0, got " + warmup);
        if (method && subnet != null) throw new Sprout.UserException("--method and --subnet: time one or the other");
        SproutConfig asked = ConfigLoader.load(config, overrides);
        if (method && asked.method().name().equals("baseline")) {
            throw new Sprout.UserException("--method: the config's method.name is baseline; name the method to time (e.g. --set method.name=switchlora)");
        }
        {
            DataLink.NewRunData opened = DataLink.forNewRun(asked, data, System.err);
            TokenDataset ds = opened.data();
            SproutConfig cfg = opened.config();
            Backend.init(cfg.threads());
            Transformer model = new Transformer(cfg.model(), Backend.device(cfg.device()), cfg.seed());
            AdamW opt = new AdamW(model.parameters(), model.sliceAxes(), cfg.optim());
            int b = cfg.train().batchSize(), t = cfg.model().context(), accum = cfg.train().gradAccum();
            TrainStep stepper = new TrainStep(model, opt, accum, b, t, cfg.optim().gradClip(), cfg.method().optimizerSlices().equals("masked"),
                    cfg.train().precision());
            BatchSampler sampler = new BatchSampler(ds, b, t, cfg.seed());
            SubnetPlan full = SubnetPlan.full(cfg.model().nLayer());
            double lr = cfg.optim().lr() * 0.1;
            TrainingMethod sub = subnet == null ? null : fixedRate(parseSubnet(subnet), cfg);
            MethodTraining other = method ? new MethodTraining(cfg, Backend.device(cfg.device()), null) : null;
            BatchSampler otherSampler = method ? new BatchSampler(ds, b, t, cfg.seed()) : null;
            FlopsAccountant acc = new FlopsAccountant(cfg.model(), cfg.flops().bwdOverFwd());
            for (int i = 0; i < warmup; i++) {
                stepper.run(full, lr, sampler);
                if (sub != null) stepper.run(sub.plan(i), lr, sampler);
                if (other != null) other.step(i, lr, otherSampler);
            }
            double[] ms = new double[steps], subMs = new double[steps];
            double subFlops = 0;
            for (int i = 0; i < steps; i++) {
                long t0 = System.nanoTime();
                stepper.run(full, lr, sampler);
                ms[i] = (System.nanoTime() - t0) / 1e6;
                if (sub != null) { // interleaved, so both see the same machine conditions
                    SubnetPlan plan = sub.plan(warmup + i);
                    subFlops += acc.train(plan, (long) accum * b, t).total();
                    long t1 = System.nanoTime();
                    stepper.run(plan, lr, sampler);
                    subMs[i] = (System.nanoTime() - t1) / 1e6;
                }
                if (other != null) {
                    long t1 = System.nanoTime();
                    MethodTraining.Step done = other.step(warmup + i, lr, otherSampler);
                    subMs[i] = (System.nanoTime() - t1) / 1e6;
                    subFlops += other.flops(done.plan()).total();
                }
            }
            double median = median(ms);
            dev.sprout.train.PeakFlops.Peak peak = dev.sprout.train.PeakFlops.of(cfg, model.device());
            double flops = acc.train(full, (long) accum * b, t).total();
            double gflops = flops / (median / 1e3) / 1e9;
            ObjectNode out = new ObjectMapper().createObjectNode();
            out.put("config", config.toString()).put("family", cfg.model().family()).put("params", cfg.model().paramCount())
                    .put("threads", torch.get_num_threads()).put("device", cfg.device()).put("steps", steps)
                    .put("tokens_per_step", (long) accum * b * t)
                    .put("median_step_ms", round(median)).put("min_step_ms", round(Arrays.stream(ms).min().orElse(0)))
                    .put("tokens_per_s", round(accum * b * t / (median / 1e3))).put("gflops_per_s", round(gflops))
                    .put("mfu", Math.round(gflops / peak.gflops() * 1e4) / 1e4).put("peak_gflops", round(peak.gflops())).put("peak_source", peak.source())
                    .put("precision", cfg.train().precision());
            if (sub != null || other != null) { // the second, interleaved step against the dense one
                double flopsFraction = subFlops / steps / flops, timeFraction = median(subMs) / median;
                if (sub != null) out.put("subnet", subnet).put("subnet_median_step_ms", round(median(subMs)));
                else out.put("method", other.method.name()).put("method_median_step_ms", round(median(subMs)));
                out.put("flops_fraction", Math.round(flopsFraction * 1e4) / 1e4).put("time_fraction", Math.round(timeFraction * 1e4) / 1e4)
                        .put("time_over_flops", Math.round(timeFraction / flopsFraction * 1e4) / 1e4);
            }
            System.out.println(new ObjectMapper().writeValueAsString(out));
        }
        return 0;
    }

    /** "layers=0.5,heads=0.5,mlp=0.5" (missing keys are 1). */
    static double[] parseSubnet(String spec) {
        double[] r = {1, 1, 1};
        for (String part : spec.split(",")) {
            String[] kv = part.split("=", 2);
            int i = switch (kv[0].trim()) {
                case "layers" -> 0;
                case "heads" -> 1;
                case "mlp" -> 2;
                default -> throw new Sprout.UserException("--subnet: unknown key '" + kv[0].trim() + "' (use layers, heads, mlp)");
            };
            try {
                r[i] = Double.parseDouble(kv.length == 2 ? kv[1].trim() : "");
            } catch (NumberFormatException e) {
                throw new Sprout.UserException("--subnet: " + part + " is not key=number");
            }
            if (!(r[i] > 0 && r[i] <= 1)) throw new Sprout.UserException("--subnet: " + kv[0].trim() + " must be in (0, 1], got " + r[i]);
        }
        return r;
    }

    /** EST's sampler held at stage 1 with the given rates, scaled by 1/p as in training. */
    static TrainingMethod fixedRate(double[] r, SproutConfig cfg) {
        return new Est(new MethodConfig.Est(1.0, 0.0, r[0], r[1], r[2], 1, 1, true), cfg.model(), Integer.MAX_VALUE, cfg.seed());
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
