package dev.sprout.data;

import java.util.Arrays;
import java.util.BitSet;
import java.util.List;

/**
 * One token per Unicode code point, vocabulary = the corpus's distinct code points in ascending order (nanoGPT's
 * shakespeare_char; tinyshakespeare gives 65). The vocabulary is built at prepare time and stored in meta.json.
 */
public final class CharTokenizer implements Tokenizer {
    public static final String NAME = "char";

    private final int[] codePoints;
    // Direct table for code points below its length (all of tinyshakespeare); binary search above.
    private final int[] table;

    public CharTokenizer(int[] codePoints) {
        if (codePoints.length == 0) throw new DataException("char vocabulary is empty");
        int[] sorted = codePoints.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < sorted.length; i++) {
            if (!Character.isValidCodePoint(sorted[i])) throw new DataException("char vocabulary: " + sorted[i] + " is not a Unicode code point");
            if (i > 0 && sorted[i] == sorted[i - 1]) throw new DataException("char vocabulary: code point " + sorted[i] + " listed twice");
        }
        this.codePoints = sorted;
        int limit = Math.min(sorted[sorted.length - 1] + 1, 1 << 16);
        this.table = new int[limit];
        Arrays.fill(table, -1);
        for (int i = 0; i < sorted.length && sorted[i] < limit; i++) table[sorted[i]] = i;
    }

    public static CharTokenizer of(List<Integer> codePoints) {
        return new CharTokenizer(codePoints.stream().mapToInt(Integer::intValue).toArray());
    }

    /** Vocabulary of exactly the code points in {@code text}. */
    public static CharTokenizer fromText(CharSequence text) {
        BitSet seen = new BitSet();
        addCodePoints(seen, text);
        return new CharTokenizer(seen.stream().toArray());
    }

    /** Marks every code point of {@code text} in {@code seen}; lets prepare collect a vocabulary chunk by chunk. */
    static void addCodePoints(BitSet seen, CharSequence text) {
        text.codePoints().forEach(seen::set);
    }

    /** The vocabulary, ascending; token id i is code point {@code codePoints()[i]}. */
    public int[] codePoints() {
        return codePoints.clone();
    }

    public List<Integer> codePointList() {
        return Arrays.stream(codePoints).boxed().toList();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public TokenizerSpec spec() {
        return new TokenizerSpec(NAME, codePoints.length, codePointList(), null, null);
    }

    @Override
    public int vocabSize() {
        return codePoints.length;
    }

    @Override
    public int[] encode(String text) {
        int[] ids = new int[text.length()];
        int n = 0;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            ids[n++] = idOf(cp);
            i += Character.charCount(cp);
        }
        return n == ids.length ? ids : Arrays.copyOf(ids, n);
    }

    private int idOf(int cp) {
        int id = cp < table.length ? table[cp] : (cp < (1 << 16) ? -1 : Arrays.binarySearch(codePoints, cp));
        if (id < 0) {
            throw new DataException("character " + describe(cp) + " is not in the char tokenizer's vocabulary of "
                    + codePoints.length + " characters");
        }
        return id;
    }

    static String describe(int cp) {
        String hex = String.format("U+%04X", cp);
        return Character.isISOControl(cp) || Character.isWhitespace(cp) ? hex : "'" + Character.toString(cp) + "' (" + hex + ")";
    }

    @Override
    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder(ids.length);
        for (int id : ids) {
            if (id < 0 || id >= codePoints.length) {
                throw new IllegalArgumentException("char token " + id + " out of range [0, " + codePoints.length + ")");
            }
            sb.appendCodePoint(codePoints[id]);
        }
        return sb.toString();
    }

    @Override
    public int eotToken() {
        return -1;
    }
}
