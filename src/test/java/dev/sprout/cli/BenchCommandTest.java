package dev.sprout.cli;

import static dev.sprout.cli.CliRun.assertUserError;
import static dev.sprout.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sprout.train.TestRuns;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `sprout bench`: its JSON line, and --method timing the config's method beside the dense step (no timing asserted). */
class BenchCommandTest {
    @TempDir
    Path tmp;

    private JsonNode bench(Path cfg, Path data, String... extra) throws IOException {
        List<String> args = new ArrayList<>(List.of("bench", "--config", cfg.toString(), "--data", data.toString(), "--steps=3"));
        args.addAll(List.of(extra));
        CliRun.Outcome o = run(args.toArray(String[]::new));
        assertEquals(0, o.code(), o.err());
        return new ObjectMapper().readTree(o.out().strip().lines().reduce((a, b) -> b).orElseThrow());
    }

    @Test
    void methodStepsAreTimedBesideTheDenseStepWithTheirOwnFlops() throws IOException {
        Path data = TestRuns.shakespeareChars(), cfg = TestRuns.tinyConfig(tmp, "llama");
        JsonNode dense = bench(cfg, data);
        assertTrue(dense.get("median_step_ms").asDouble() > 0 && dense.get("tokens_per_step").asLong() == 8 * 32, dense.toString());
        assertTrue(!dense.has("method"), dense.toString());

        JsonNode half = bench(cfg, data, "--subnet", "layers=0.5"); // one of the two blocks: the head and embeddings stay
        assertTrue(half.get("flops_fraction").asDouble() > 0.5 && half.get("flops_fraction").asDouble() < 0.8, half.toString());
        assertTrue(half.get("subnet_median_step_ms").asDouble() > 0 && half.has("time_over_flops"), half.toString());

        JsonNode galore = bench(cfg, data, "--method", "--set", "method.name=galore", "--set", "method.galore.rank=4");
        assertEquals("galore", galore.get("method").asText());
        assertEquals(1.0, galore.get("flops_fraction").asDouble(), 0.0, "GaLore runs the dense model's matmuls");
        assertTrue(galore.get("method_median_step_ms").asDouble() > 0);

        // incremental training, S = 2 on 2 blocks: its first steps train the first block alone
        JsonNode inc = bench(cfg, data, "--method", "--set", "method.name=incremental", "--set", "method.incremental.stages=2");
        assertTrue(inc.get("flops_fraction").asDouble() < 0.8, inc.toString());

        // LoRA: the adapters' FLOPs are charged (rank 16 on d=32 costs more than the frozen W's skipped weight gradients save)
        JsonNode lora = bench(cfg, data, "--method", "--set", "method.name=lora", "--set", "method.lora.rank=16");
        assertTrue(lora.get("flops_fraction").asDouble() > 1.0, lora.toString());
    }

    @Test
    void badMethodRequestsAreOneLineErrors() throws IOException {
        Path data = TestRuns.shakespeareChars(), cfg = TestRuns.tinyConfig(tmp, "gpt2");
        assertUserError(run("bench", "--config", cfg.toString(), "--data", data.toString(), "--method"), "method.name is baseline");
        assertUserError(run("bench", "--config", cfg.toString(), "--data", data.toString(), "--method", "--subnet", "layers=0.5",
                "--set", "method.name=lora"), "--method and --subnet");
    }
}
