package dev.sprout.data;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;

/** GPT-2's byte-level BPE (jtokkit r50k_base): vocabulary 50257, {@code <|endoftext|>} = 50256 separates documents. */
public final class Gpt2Tokenizer implements Tokenizer {
    public static final String NAME = "gpt2";
    public static final int VOCAB_SIZE = 50257;
    public static final int EOT = 50256;

    // Loading the ranks takes a moment; every instance shares one immutable, thread-safe encoding.
    private static final class Holder {
        static final Encoding ENCODING = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.R50K_BASE);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public TokenizerSpec spec() {
        return TokenizerSpec.fixed(NAME, vocabSize());
    }

    @Override
    public int vocabSize() {
        return VOCAB_SIZE;
    }

    /** Text that spells {@code <|endoftext|>} is encoded as ordinary text, never as the EOT token. */
    @Override
    public int[] encode(String text) {
        return Holder.ENCODING.encodeOrdinary(text).toArray();
    }

    @Override
    public String decode(int[] ids) {
        IntArrayList list = new IntArrayList(ids.length);
        for (int id : ids) {
            if (id < 0 || id >= VOCAB_SIZE) throw new IllegalArgumentException("gpt2 token " + id + " out of range [0, " + VOCAB_SIZE + ")");
            list.add(id);
        }
        return Holder.ENCODING.decode(list);
    }

    /** The bytes of one token: what its rank stands for in r50k_base (the HF export derives GPT-2's vocabulary and merges from them). */
    static byte[] tokenBytes(int id) {
        IntArrayList one = new IntArrayList(1);
        one.add(id);
        return Holder.ENCODING.decodeBytes(one);
    }

    @Override
    public int eotToken() {
        return EOT;
    }
}
