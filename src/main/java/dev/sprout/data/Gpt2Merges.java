package dev.sprout.data;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * GPT-2's vocab.json and merges.txt, recovered from the BPE ranks jtokkit ships (r50k_base), which are GPT-2's vocabulary
 * with each token's id as its rank. A token's merge is the last step of byte-pair encoding its own bytes with only the
 * merges ranked below it: two parts remain, and joining them is the merge that creates the token (the recovery
 * transformers uses to convert tiktoken vocabularies). Merges come in rank order, which is their priority.
 *
 * @param vocab  every token (in the byte-level alphabet) to its id, {@code <|endoftext|>} included
 * @param merges "left right" pairs in the byte-level alphabet, highest priority first
 */
record Gpt2Merges(Map<String, Integer> vocab, List<String> merges) {
    static final String END_OF_TEXT = "<|endoftext|>";

    static Gpt2Merges derive() {
        int n = Gpt2Tokenizer.EOT; // ids below it are ordinary tokens
        String[] tokens = new String[n];
        Map<String, Integer> rank = new HashMap<>(2 * n);
        for (int id = 0; id < n; id++) {
            tokens[id] = new String(Gpt2Tokenizer.tokenBytes(id), StandardCharsets.ISO_8859_1); // one char per byte
            rank.put(tokens[id], id);
        }
        Map<String, Integer> vocab = new LinkedHashMap<>();
        List<String> merges = new ArrayList<>();
        for (int id = 0; id < n; id++) {
            vocab.put(ByteLevelAlphabet.of(tokens[id].getBytes(StandardCharsets.ISO_8859_1)), id);
            if (tokens[id].length() < 2) continue;
            List<String> parts = encodeBelow(tokens[id], rank, id);
            if (parts.size() != 2) throw new IllegalStateException("r50k_base token " + id + " does not come from one merge of lower-ranked tokens: " + parts);
            merges.add(ByteLevelAlphabet.of(parts.get(0).getBytes(StandardCharsets.ISO_8859_1)) + " "
                    + ByteLevelAlphabet.of(parts.get(1).getBytes(StandardCharsets.ISO_8859_1)));
        }
        vocab.put(END_OF_TEXT, Gpt2Tokenizer.EOT);
        return new Gpt2Merges(vocab, merges);
    }

    /** tiktoken's byte-pair encoding of {@code token}, merging only pairs that form tokens ranked below {@code maxRank}. */
    private static List<String> encodeBelow(String token, Map<String, Integer> rank, int maxRank) {
        List<String> parts = new ArrayList<>(token.length());
        for (int i = 0; i < token.length(); i++) parts.add(token.substring(i, i + 1));
        while (true) {
            int best = -1, bestRank = maxRank;
            for (int i = 0; i + 1 < parts.size(); i++) {
                Integer r = rank.get(parts.get(i) + parts.get(i + 1));
                if (r != null && r < bestRank) {
                    best = i;
                    bestRank = r;
                }
            }
            if (best < 0) return parts;
            parts.set(best, parts.get(best) + parts.get(best + 1));
            parts.remove(best + 1);
        }
    }
}
