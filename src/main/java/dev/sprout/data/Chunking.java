package dev.sprout.data;

/**
 * Picks where to cut long text into chunks that are tokenized separately, so that no tokenizer call sees more
 * than a bounded amount of text (bounded memory, and jtokkit is slow on very long strings).
 */
final class Chunking {
    private Chunking() {}

    /**
     * Returns a cut index in (from + limit/2, from + limit], given {@code s.length() > from + limit}. Preferred is a
     * position just after a newline whose neighbours on both sides are not whitespace ("word\nWord"): GPT-2's
     * pre-tokenizer never joins text across such a newline, so cutting there yields exactly the tokens of the uncut
     * text. Failing that, any newline, then any whitespace boundary, then any point not inside a surrogate pair.
     */
    static int cut(CharSequence s, int from, int limit) {
        int hi = from + limit;
        int lo = from + Math.max(1, limit / 2);
        for (int i = hi; i > lo; i--) {
            if (s.charAt(i - 1) == '\n' && !isSpace(s.charAt(i)) && (i < 2 || !isSpace(s.charAt(i - 2)))) return i;
        }
        for (int i = hi; i > lo; i--) if (s.charAt(i - 1) == '\n') return i;
        for (int i = hi; i > lo; i--) if (isSpace(s.charAt(i - 1)) && !isSpace(s.charAt(i))) return i;
        return Character.isHighSurrogate(s.charAt(hi - 1)) && Character.isLowSurrogate(s.charAt(hi)) ? hi - 1 : hi;
    }

    // Broader than regex \s on purpose: a false "space" only costs a less preferred cut, a missed one could change tokens.
    static boolean isSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
    }
}
