package dev.sprout.data;

/**
 * GPT-2's byte-level alphabet ({@code bytes_to_unicode} in OpenAI's encoder.py, the ByteLevel pre-tokenizer of Hugging Face's
 * tokenizers): each of the 256 byte values as one printable character, so that byte strings can be vocabulary keys and merge
 * rules. Printable Latin-1 bytes stand for themselves; the other 68 (controls, space, 0x7F-0xA0, 0xAD) become U+0100 on,
 * which is why a space reads 'Ġ' (U+0120) in GPT-2's vocabulary.
 */
final class ByteLevelAlphabet {
    private static final char[] CHARS = new char[256];

    static {
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            CHARS[b] = (char) (printable ? b : next++);
        }
    }

    private ByteLevelAlphabet() {}

    static String of(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length);
        for (byte b : bytes) sb.append(CHARS[b & 0xFF]);
        return sb.toString();
    }

    static String of(int b) {
        return String.valueOf(CHARS[b]);
    }
}
