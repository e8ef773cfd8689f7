package dev.sprout.config;

import java.util.Set;

/** The `method:` section: which training method chooses each step's subnetwork. */
public record MethodConfig(String name) {
    public static final Set<String> NAMES = Set.of("baseline");

    public void validate() {
        Check.oneOf("method.name", name, NAMES);
    }
}
