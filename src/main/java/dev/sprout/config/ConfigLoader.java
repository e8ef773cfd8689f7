package dev.sprout.config;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Reads a run configuration: built-in defaults, then the user's YAML file, then `--set key=value` overrides.
 * Unknown keys, wrong types and impossible values fail with one line that names the key.
 */
public final class ConfigLoader {
    public static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES))
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            // serialize record components only, not derived accessors such as ModelConfig.headDim()
            .setVisibility(PropertyAccessor.GETTER, JsonAutoDetect.Visibility.NONE)
            .setVisibility(PropertyAccessor.IS_GETTER, JsonAutoDetect.Visibility.NONE)
            .setVisibility(PropertyAccessor.FIELD, JsonAutoDetect.Visibility.ANY);

    private ConfigLoader() {}

    /** The defaults tree (a fresh copy). */
    public static ObjectNode defaults() {
        try (InputStream in = ConfigLoader.class.getResourceAsStream("/sprout/defaults.yaml")) {
            return (ObjectNode) YAML.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read built-in defaults", e);
        }
    }

    /** Loads FILE (may be null for defaults only) and applies the overrides, in order. */
    public static SproutConfig load(Path file, List<String> overrides) {
        ObjectNode tree = defaults();
        if (file != null) mergeFile(tree, file, new java.util.ArrayList<>());
        for (String o : overrides) applyOverride(tree, o);
        return bind(tree);
    }

    /** A resolved configuration with {@code --set} overrides applied (a resumed run's allowed changes). */
    public static SproutConfig withOverrides(SproutConfig cfg, List<String> overrides) {
        ObjectNode tree = YAML.valueToTree(cfg);
        for (String o : overrides) applyOverride(tree, o);
        return bind(tree);
    }

    /**
     * Merges a config file into the tree. A file may start from another with {@code base: other.yaml}
     * (relative to itself), so a family of configs states only what differs from a common one.
     */
    private static void mergeFile(ObjectNode tree, Path file, List<Path> chain) {
        Path norm = file.toAbsolutePath().normalize();
        if (chain.contains(norm)) throw new ConfigException(file + ": 'base' files include each other: " + chain);
        chain.add(norm);
        JsonNode user = readYaml(file);
        if (user.isMissingNode() || user.isNull()) return;
        if (!user.isObject()) throw new ConfigException(file + ": expected a mapping of config keys at the top level");
        ObjectNode own = ((ObjectNode) user).deepCopy();
        JsonNode base = own.remove("base");
        if (base != null) {
            if (!base.isTextual()) throw new ConfigException(file + ": base: expected the path of another config file");
            Path parent = norm.getParent();
            mergeFile(tree, parent.resolve(base.asText()), chain);
        }
        merge(tree, own, "", file.toString());
    }

    /**
     * Binds a complete tree (e.g. a run's resolved config.yaml) and validates it. The tree is laid over the defaults, so a
     * run written before a section existed still loads (resume refuses a run whose config lacks a key that changes what
     * is computed: ConfigDiff).
     */
    public static SproutConfig bind(JsonNode tree) {
        if (tree instanceof ObjectNode o) {
            ObjectNode full = defaults();
            merge(full, o, "", "the run's config.yaml");
            tree = full;
        }
        SproutConfig cfg;
        try {
            cfg = YAML.treeToValue(tree, SproutConfig.class);
        } catch (MismatchedInputException e) {
            String key = e.getPath().stream().map(r -> r.getFieldName() == null ? "[" + r.getIndex() + "]" : r.getFieldName())
                    .collect(Collectors.joining("."));
            String want = e.getTargetType() == null ? "another type" : describe(e.getTargetType());
            String got = e instanceof InvalidFormatException ife ? " got '" + ife.getValue() + "'" : "";
            throw new ConfigException(key + ": expected " + want + "," + (got.isEmpty() ? " got a value of another type" : got));
        } catch (JsonProcessingException e) {
            throw new ConfigException("invalid configuration: " + e.getOriginalMessage());
        }
        cfg.validate();
        return cfg;
    }

    public static String toYaml(SproutConfig cfg) {
        try {
            return YAML.writeValueAsString(cfg);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads a YAML file, turning I/O and syntax problems into one-line errors. */
    public static JsonNode readYaml(Path file) {
        if (!Files.isRegularFile(file)) throw new ConfigException("config file not found: " + file);
        try {
            JsonNode n = YAML.readTree(file.toFile());
            return n == null ? MissingNode.getInstance() : n;
        } catch (JsonProcessingException e) {
            var loc = e.getLocation();
            throw new ConfigException(file + (loc == null ? "" : ":" + loc.getLineNr()) + ": invalid YAML: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
        }
    }

    private static String describe(Class<?> t) {
        if (t == int.class || t == long.class || t == Integer.class || t == Long.class) return "an integer";
        if (t == double.class || t == Double.class || t == float.class) return "a number";
        if (t == boolean.class || t == Boolean.class) return "true or false";
        if (t == String.class) return "a string";
        return "a mapping";
    }

    private static void merge(ObjectNode base, ObjectNode user, String prefix, String source) {
        Iterator<Map.Entry<String, JsonNode>> it = user.fields();
        while (it.hasNext()) {
            var e = it.next();
            String key = prefix + e.getKey();
            JsonNode known = base.get(e.getKey());
            if (known == null) throw unknown(key, base, prefix, source);
            if (known.isObject()) {
                if (!e.getValue().isObject()) throw new ConfigException(key + ": expected a mapping of keys (" + source + ")");
                merge((ObjectNode) known, (ObjectNode) e.getValue(), key + ".", source);
            } else {
                if (e.getValue().isContainerNode()) throw new ConfigException(key + ": expected a single value, got a " + (e.getValue().isArray() ? "list" : "mapping") + " (" + source + ")");
                base.set(e.getKey(), e.getValue());
            }
        }
    }

    private static void applyOverride(ObjectNode tree, String override) {
        int eq = override.indexOf('=');
        if (eq <= 0) throw new ConfigException("--set " + override + ": expected key=value, e.g. --set train.grad_accum=4");
        String key = override.substring(0, eq).trim();
        String raw = override.substring(eq + 1).trim();
        String[] parts = key.split("\\.");
        ObjectNode node = tree;
        StringBuilder prefix = new StringBuilder();
        for (int i = 0; i < parts.length; i++) {
            JsonNode child = node.get(parts[i]);
            if (child == null) throw unknown(key, node, prefix.toString(), "--set");
            if (i < parts.length - 1) {
                if (!child.isObject()) throw new ConfigException("--set " + key + ": '" + prefix + parts[i] + "' is a value, not a section");
                node = (ObjectNode) child;
                prefix.append(parts[i]).append('.');
            } else {
                if (child.isObject()) throw new ConfigException("--set " + key + ": is a section; set one of its keys, e.g. " + key + "." + child.fieldNames().next());
                JsonNode value;
                try {
                    value = raw.isEmpty() ? YAML.getNodeFactory().textNode("") : YAML.readTree(raw);
                } catch (JsonProcessingException e) {
                    value = YAML.getNodeFactory().textNode(raw);
                }
                if (value == null || value.isContainerNode() || value.isMissingNode()) value = YAML.getNodeFactory().textNode(raw);
                node.set(parts[i], value);
            }
        }
    }

    private static ConfigException unknown(String key, JsonNode section, String prefix, String source) {
        List<String> names = new ArrayList<>();
        section.fieldNames().forEachRemaining(names::add);
        String leaf = key.substring(key.lastIndexOf('.') + 1);
        String hint = Check.closest(leaf, names).map(n -> " (did you mean '" + prefix + n + "'?)").orElse("");
        return new ConfigException("unknown config key '" + key + "' in " + source + hint);
    }
}
