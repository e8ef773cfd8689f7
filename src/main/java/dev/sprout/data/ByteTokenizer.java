package dev.sprout.data;

import java.nio.charset.StandardCharsets;

/** UTF-8 bytes as tokens: vocabulary 256, no unknown characters, no end-of-text token. */
public final class ByteTokenizer implements Tokenizer {
    public static final String NAME = "byte";

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
        return 256;
    }

    @Override
    public int[] encode(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) ids[i] = bytes[i] & 0xFF;
        return ids;
    }

    /** Invalid UTF-8 (e.g. a window cut inside a multi-byte character) decodes to U+FFFD rather than failing. */
    @Override
    public String decode(int[] ids) {
        byte[] bytes = new byte[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] > 255) throw new IllegalArgumentException("byte token out of range: " + ids[i]);
            bytes[i] = (byte) ids[i];
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Override
    public int eotToken() {
        return -1;
    }
}
