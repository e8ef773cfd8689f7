package dev.sprout.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The token an hf tokenizer writes between two documents, and why that one. tokenizer.json does not say which of its tokens
 * ends a text; transformers keeps that in tokenizer_config.json's {@code eos_token}. So, in this order: the eos_token of a
 * tokenizer_config.json lying beside the tokenizer.json (the file transformers itself would read); else the first special
 * token named as the common families name their end-of-text token ({@link #KNOWN}); else none, and documents are separated
 * by a blank line like the char and byte tokenizers do. The choice is made once, at prepare time, and kept in meta.json.
 *
 * @param token  the token's text, or null for none
 * @param id     its id, or -1 for none
 * @param reason why it was chosen (or why there is none), for prepare's report
 */
record HfEndOfText(String token, int id, String reason) {
    public static final String CONFIG = "tokenizer_config.json";
    /** End-of-text tokens by name: GPT-2, GPT-NeoX, Qwen and StarCoder; Llama 3; Llama 1 and 2, Mistral, T5; Gemma. */
    static final List<String> KNOWN = List.of("<|endoftext|>", "<|end_of_text|>", "</s>", "<eos>");
    private static final ObjectMapper JSON = new ObjectMapper();

    static HfEndOfText none(String reason) {
        return new HfEndOfText(null, -1, reason);
    }

    /** Chooses the end-of-text token of the tokenizer.json {@code file} with vocabulary {@code vocab}. */
    static HfEndOfText choose(HfTokenizerJson vocab, Path file) {
        Path config = file.toAbsolutePath().resolveSibling(CONFIG);
        String configured = Files.isRegularFile(config) ? eosToken(config) : null;
        if (configured != null) {
            int id = vocab.idOf(configured);
            if (id < 0) throw new DataException(config + ": eos_token '" + configured + "' is not a token of " + file);
            return new HfEndOfText(configured, id, CONFIG + " beside it names it eos_token");
        }
        for (String name : KNOWN) {
            if (vocab.specialTokens().contains(name)) {
                return new HfEndOfText(name, vocab.idOf(name), "the file's special token named as end-of-text tokens are (no " + CONFIG + " beside it names an eos_token)");
            }
        }
        return none("no " + CONFIG + " beside it names an eos_token and it has no special token named " + String.join(", ", KNOWN));
    }

    /** The token a data folder's or run's description names, checked against the file. */
    static HfEndOfText named(String token, HfTokenizerJson vocab, String describedIn, Path file) {
        if (token == null) return none("none recorded");
        int id = vocab.idOf(token);
        if (id < 0) throw new DataException(describedIn + ": field 'eos_token': '" + token + "' is not a token of " + file);
        return new HfEndOfText(token, id, "recorded in " + describedIn);
    }

    /** tokenizer_config.json's eos_token: a string, or an object whose "content" is the token (AddedToken's form); null when absent. */
    private static String eosToken(Path config) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(config));
        } catch (JsonProcessingException e) {
            throw new DataException(config + ": not a JSON file (" + HfTokenizerJson.oneLine(e.getOriginalMessage()) + ")", e);
        } catch (IOException e) {
            throw new DataException(config + ": cannot read (" + HfTokenizerJson.oneLine(e.getMessage()) + ")", e);
        }
        JsonNode eos = root == null ? null : root.get("eos_token");
        if (eos == null || eos.isNull()) return null;
        if (eos.isTextual()) return eos.asText();
        if (eos.path("content").isTextual()) return eos.get("content").asText();
        throw new DataException(config + ": eos_token: expected a string or an object with \"content\", found " + eos);
    }
}
