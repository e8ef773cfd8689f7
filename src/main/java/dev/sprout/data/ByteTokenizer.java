package dev.sprout.data;

import java.nio.charset.StandardCharsets;

/**
 * Bytes as tokens: vocabulary 256, no unknown characters, no end-of-text token. Text is encoded as UTF-8; prepare
 * gives a text file's raw bytes, whatever its encoding ({@link #encodeByteString}).
 */
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

    /** Token ids of a byte string, one char per byte (0..255), as prepare reads text files for this tokenizer. */
    static int[] encodeByteString(String bytes) {
        int[] ids = new int[bytes.length()];
        for (int i = 0; i < ids.length; i++) {
            char c = bytes.charAt(i);
            if (c > 0xFF) throw new IllegalArgumentException("not a byte string: char " + (int) c + " at " + i);
            ids[i] = c;
        }
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
