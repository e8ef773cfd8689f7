package dev.sprout.config;

import java.util.Set;

/** The `data:` section: the tokenizer the data must use and how the built-in corpus is prepared. */
public record DataConfig(String tokenizer, double valFraction) {
    public static final Set<String> TOKENIZERS = Set.of("auto", "char", "byte", "gpt2");

    public void validate() {
        Check.oneOf("data.tokenizer", tokenizer, TOKENIZERS);
        if (!(valFraction > 0 && valFraction < 1)) {
            throw new ConfigException("data.val_fraction: must be in (0, 1), got " + valFraction);
        }
    }
}
