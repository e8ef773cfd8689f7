package dev.sprout.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.sprout.config.ConfigLoader;
import org.junit.jupiter.api.Test;

class ConfigDiffTest {
    private static final String RUN = "train:\n  lr: 0.001\n  max_steps: 100\nflops:\n  peak_gflops: '300.0'\n  bwd_over_fwd: 2.0\ndist:\n  check_every: 0\n";

    @Test
    void whatOnlyChangesReportingOrHowTheJobRunsIsNoDifference() {
        assertNull(ConfigDiff.first(RUN, RUN.replace("'300.0'", "auto")), "the MFU peak changes no computed value");
        assertNull(ConfigDiff.first(RUN, RUN.replace("check_every: 0", "check_every: 5")), "dist.* says how the job runs");
    }

    @Test
    void aCheckpointWrittenBeforeAKeyExistedMatchesOnceDefaultsAreFilledIn() throws Exception {
        String now = ConfigLoader.toYaml(ConfigLoader.bind(ConfigLoader.YAML.readTree("seed: 3\n")));
        String older = now.replaceAll("(?m)^  precision: .*\n", "");
        assertNotEquals(now, older, "the default config has train.precision");
        assertEquals("train.precision: not in the run's config", ConfigDiff.first(older, now, true));
        String bound = ConfigLoader.toYaml(ConfigLoader.bind(ConfigLoader.YAML.readTree(older)));
        assertNull(ConfigDiff.first(bound, now, true), "binding fills in today's defaults, as resuming from a checkpoint does");
    }

    @Test
    void aComputedKeyIsNamed() {
        assertEquals("flops.bwd_over_fwd: 2.0 vs 3.0", ConfigDiff.first(RUN, RUN.replace("bwd_over_fwd: 2.0", "bwd_over_fwd: 3.0")));
        assertEquals("train.lr: 0.001 vs 0.002", ConfigDiff.first(RUN, RUN.replace("lr: 0.001", "lr: 0.002")));
        assertEquals("train.max_steps: 100 vs 200", ConfigDiff.first(RUN, RUN.replace("100", "200")));
        assertNull(ConfigDiff.first(RUN, RUN.replace("100", "200"), true), "a resumed run may change its length");
    }
}
