package dev.sprout.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What Sprout reads itself from a Hugging Face tokenizer.json, before the tokenizers library sees it: that the file is a
 * tokenizer at all (a one-line error otherwise, where the library's own messages are long and cryptic), its vocabulary
 * size (the largest id of the model's vocabulary and the added tokens, plus one) and the ids of its tokens, so that an
 * end-of-text token can be looked up by name.
 *
 * @param vocabSize     the largest id plus one
 * @param ids           every token's id: the model's vocabulary and the added tokens
 * @param specialTokens the added tokens marked special, in id order
 */
record HfTokenizerJson(int vocabSize, Map<String, Integer> ids, List<String> specialTokens) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Parses {@code json}; {@code where} (the file) opens every error. */
    static HfTokenizerJson parse(byte[] json, String where) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new DataException(where + ": not a JSON file (" + oneLine(e.getOriginalMessage()) + ")", e);
        } catch (IOException e) {
            throw new DataException(where + ": cannot read (" + oneLine(e.getMessage()) + ")", e);
        }
        JsonNode model = root == null ? null : root.get("model");
        if (model == null || !model.isObject()) {
            throw new DataException(where + ": not a Hugging Face tokenizer.json (it has no \"model\" section)");
        }
        Map<String, Integer> ids = new HashMap<>();
        int max = -1;
        JsonNode vocab = model.get("vocab");
        if (vocab != null && vocab.isObject()) { // BPE, WordPiece, WordLevel: token -> id
            for (var it = vocab.fields(); it.hasNext(); ) {
                var e = it.next();
                if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0) {
                    throw new DataException(where + ": model.vocab: token '" + e.getKey() + "' has id " + e.getValue() + ", expected an integer >= 0");
                }
                ids.put(e.getKey(), e.getValue().asInt());
                max = Math.max(max, e.getValue().asInt());
            }
        } else if (vocab != null && vocab.isArray()) { // Unigram: [piece, score] pairs, the id is the position
            for (int i = 0; i < vocab.size(); i++) ids.putIfAbsent(vocab.get(i).path(0).asText(), i);
            max = vocab.size() - 1;
        }
        List<String> special = new ArrayList<>();
        JsonNode added = root.path("added_tokens");
        for (JsonNode t : added) {
            if (!t.path("id").canConvertToInt() || !t.path("content").isTextual()) {
                throw new DataException(where + ": added_tokens: an entry lacks an integer 'id' or a 'content' string");
            }
            int id = t.get("id").asInt();
            ids.put(t.get("content").asText(), id);
            max = Math.max(max, id);
            if (t.path("special").asBoolean(false)) special.add(t.get("content").asText());
        }
        if (max < 0) throw new DataException(where + ": not a Hugging Face tokenizer.json (model.vocab and added_tokens are both missing or empty)");
        special.sort((a, b) -> Integer.compare(ids.get(a), ids.get(b)));
        return new HfTokenizerJson(max + 1, Map.copyOf(ids), List.copyOf(special));
    }

    /** The id of {@code token}, or -1 when the file has no such token. */
    int idOf(String token) {
        Integer id = ids.get(token);
        return id == null ? -1 : id;
    }

    /** A library message as one line (the CLI prints errors as one line; some messages span several). */
    static String oneLine(String message) {
        if (message == null) return "no details";
        String first = message.strip().lines().findFirst().orElse("");
        return first.length() > 200 ? first.substring(0, 200) + "..." : first;
    }
}
