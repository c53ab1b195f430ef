package org.nestlm.data;

import java.util.regex.Pattern;

/**
 * Plain text from a POS-tagged Brown Corpus file, exactly as docs/CORPORA.md §1.3 derives {@code brown.txt}:
 * {@code sed -E 's#([^ ]+)/[^ ]+#\1#g' | awk 'NF' | sed -E 's/^[[:space:]]+//'} — tags dropped ({@code The/at} →
 * {@code The}), blank lines dropped, leading whitespace removed. The fetch checks the result against the pinned
 * SHA-256 of the concatenation, so this must stay byte-for-byte equal to the shell recipe.
 */
public final class BrownText {

    // Greedy first group: "1/2/cd" keeps "1/2", as POSIX sed does (leftmost-longest, subexpressions longest first).
    private static final Pattern TAGGED = Pattern.compile("([^ ]+)/[^ ]+");
    private static final Pattern LEADING_SPACE = Pattern.compile("^[ \\t\\x0B\\f\\r]+");

    private BrownText() {
    }

    public static String strip(String tagged) {
        StringBuilder out = new StringBuilder(tagged.length() / 2);
        int start = 0;
        int n = tagged.length();
        while (start < n) {
            int nl = tagged.indexOf('\n', start);
            int end = nl < 0 ? n : nl;
            String line = TAGGED.matcher(tagged.substring(start, end)).replaceAll("$1");
            if (!isBlankForAwk(line)) {
                out.append(LEADING_SPACE.matcher(line).replaceFirst("")).append('\n');
            }
            start = end + 1;
        }
        return out.toString();
    }

    /** awk's default field splitting: a line has no fields when it holds only spaces and tabs. */
    private static boolean isBlankForAwk(String line) {
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c != ' ' && c != '\t') {
                return false;
            }
        }
        return true;
    }
}
