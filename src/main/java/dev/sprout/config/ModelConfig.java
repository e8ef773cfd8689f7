package dev.sprout.config;

import java.util.Set;

/**
 * The `model:` section. Zero-valued "auto" fields are resolved by {@link #resolve(int)} once the data's
 * vocabulary is known; the resolved record is what a run writes to its config.yaml.
 */
public record ModelConfig(String family, int nLayer, int nHead, int nKvHead, int dModel, int dFf, int ffMultipleOf,
                          int context, int maxPositions, int vocabSize, String tieEmbeddings, double normEps,
                          double ropeTheta, double initStd) {
    public static final Set<String> FAMILIES = Set.of("gpt2", "llama");

    public boolean isLlama() {
        return family.equals("llama");
    }

    public int headDim() {
        return dModel / nHead;
    }

    public int kvHeads() {
        return nKvHead == 0 ? nHead : nKvHead;
    }

    public int ffDim() {
        if (dFf > 0) return dFf;
        if (!isLlama()) return 4 * dModel;
        int hidden = (int) Math.ceil(8.0 * dModel / 3.0);
        return ((hidden + ffMultipleOf - 1) / ffMultipleOf) * ffMultipleOf;
    }

    public int positions() {
        return maxPositions == 0 ? context : maxPositions;
    }

    public boolean tied() {
        return tieEmbeddings.equals("auto") ? !isLlama() : Boolean.parseBoolean(tieEmbeddings);
    }

    public void validate() {
        Check.oneOf("model.family", family, FAMILIES);
        Check.positive("model.n_layer", nLayer);
        Check.positive("model.n_head", nHead);
        Check.positive("model.d_model", dModel);
        if (dModel % nHead != 0) {
            throw new ConfigException("model.n_head: " + nHead + " heads do not divide model.d_model=" + dModel);
        }
        Check.nonNegative("model.n_kv_head", nKvHead);
        if (nKvHead != 0 && nHead % nKvHead != 0) {
            throw new ConfigException("model.n_kv_head: " + nKvHead + " does not divide model.n_head=" + nHead);
        }
        if (!isLlama() && nKvHead != 0 && nKvHead != nHead) {
            throw new ConfigException("model.n_kv_head: grouped-query attention is a llama feature; gpt2 needs 0 or n_head, got " + nKvHead);
        }
        if (isLlama() && headDim() % 2 != 0) {
            throw new ConfigException("model.d_model: RoPE needs an even head size, d_model/n_head = " + headDim());
        }
        Check.nonNegative("model.d_ff", dFf);
        Check.positive("model.ff_multiple_of", ffMultipleOf);
        Check.positive("model.context", context);
        Check.nonNegative("model.max_positions", maxPositions);
        if (maxPositions != 0 && context > maxPositions) {
            throw new ConfigException("model.context: " + context + " is longer than the position table (model.max_positions=" + maxPositions + ")");
        }
        Check.nonNegative("model.vocab_size", vocabSize);
        Check.oneOf("model.tie_embeddings", tieEmbeddings, Set.of("auto", "true", "false"));
        Check.positive("model.norm_eps", normEps);
        Check.positive("model.rope_theta", ropeTheta);
        Check.positive("model.init_std", initStd);
    }

    /** Fills the automatic fields: the vocabulary from the data, d_ff, n_kv_head and the position table. */
    public ModelConfig resolve(int dataVocab) {
        int vocab = vocabSize;
        if (vocab == 0) {
            vocab = dataVocab;
        } else if (vocab < dataVocab) {
            throw new ConfigException("model.vocab_size: " + vocabSize + " is smaller than the data's vocabulary of " + dataVocab + " tokens");
        }
        return new ModelConfig(family, nLayer, nHead, kvHeads(), dModel, ffDim(), ffMultipleOf, context, positions(), vocab,
                String.valueOf(tied()), normEps, ropeTheta, initStd);
    }

    /** Parameters of the model, counting a tied embedding once. */
    public long paramCount() {
        long d = dModel, f = ffDim(), v = vocabSize, kv = (long) kvHeads() * headDim();
        long attn = d * d * 2 + 2 * d * kv;
        long mlp = isLlama() ? 3 * d * f : 2 * d * f;
        long norms = isLlama() ? 2 * d : 4 * d;
        long biases = isLlama() ? 0 : (d + 2 * kv + d) + (f + d);
        long perLayer = attn + mlp + norms + biases;
        long emb = v * d + (isLlama() ? 0 : (long) positions() * d);
        long head = tied() ? 0 : v * d;
        long finalNorm = isLlama() ? d : 2 * d;
        return nLayer * perLayer + emb + head + finalNorm;
    }
}
