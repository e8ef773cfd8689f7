package dev.sprout.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sprout.config.ConfigLoader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Map;

/** Names the first key at which two resolved configurations differ. */
public final class ConfigDiff {
    /** Sections that say how a job runs, not what it computes: a run may resume with other values. */
    static final java.util.Set<String> JOB_SECTIONS = java.util.Set.of("dist");

    /**
     * Keys that change only what is reported, never what is computed: the peak MFU is quoted against. A run (or a
     * comparison's run) started when the default was a number resumes under a config that says auto.
     */
    static final java.util.Set<String> REPORTING_KEYS = java.util.Set.of("flops.peak_gflops");

    private ConfigDiff() {}

    /**
     * How a step's global batch is split: per rank and micro-batch (train.batch_size) and micro-batches per step
     * (train.grad_accum). A run may resume with another split (another world size) of the same global batch.
     */
    static final java.util.Set<String> BATCH_SPLIT = java.util.Set.of("batch_size", "grad_accum");

    /** What a resumed run may change beyond its batch split: its length (extending a finished run). */
    static final java.util.Set<String> RESUMABLE_TRAIN = java.util.Set.of("batch_size", "grad_accum", "max_steps");

    /** "key: a vs b" for the first difference in what the runs compute, or null when they are equal. */
    public static String first(String yamlA, String yamlB) {
        return first(yamlA, yamlB, false);
    }

    /**
     * The same, leaving out what a resumed run may change when {@code ignoreResumable}: the batch split
     * (train.batch_size, train.grad_accum) and the length (train.max_steps).
     */
    public static String first(String yamlA, String yamlB, boolean ignoreResumable) {
        try {
            JsonNode a = ConfigLoader.YAML.readTree(yamlA), b = ConfigLoader.YAML.readTree(yamlB);
            for (JsonNode n : new JsonNode[]{a, b}) {
                if (!(n instanceof com.fasterxml.jackson.databind.node.ObjectNode o)) continue;
                o.remove(JOB_SECTIONS);
                for (String key : REPORTING_KEYS) {
                    String[] parts = key.split("\\.", 2);
                    if (o.get(parts[0]) instanceof com.fasterxml.jackson.databind.node.ObjectNode section) section.remove(parts[1]);
                }
                if (ignoreResumable && o.get("train") instanceof com.fasterxml.jackson.databind.node.ObjectNode t) t.remove(RESUMABLE_TRAIN);
            }
            return first(a, b, "");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String first(JsonNode a, JsonNode b, String prefix) {
        if (a.isObject() && b.isObject()) {
            Iterator<Map.Entry<String, JsonNode>> it = a.fields();
            while (it.hasNext()) {
                var e = it.next();
                JsonNode other = b.get(e.getKey());
                if (other == null) return prefix + e.getKey() + ": missing";
                String d = first(e.getValue(), other, prefix + e.getKey() + ".");
                if (d != null) return d;
            }
            Iterator<String> names = b.fieldNames();
            while (names.hasNext()) {
                String n = names.next();
                if (!a.has(n)) return prefix + n + ": not in the run's config";
            }
            return null;
        }
        if (a.asText().equals(b.asText())) return null;
        return prefix.substring(0, Math.max(0, prefix.length() - 1)) + ": " + a.asText() + " vs " + b.asText();
    }
}
