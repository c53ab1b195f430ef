package org.nestlm.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The GPT-2 pre-tokenizer: text is split into pieces by GPT-2's regular expression before BPE runs inside each
 * piece. This is the expression Hugging Face's {@code ByteLevel} pre-tokenizer applies with {@code use_regex: true};
 * writing that built-in (rather than a custom {@code Split} pattern) into tokenizer.json means DJL's native
 * tokenizers (Oniguruma) run exactly the expression they were built and tested with.
 *
 * <p>Java must agree with Oniguruma: {@link Pattern#UNICODE_CHARACTER_CLASS} makes {@code \s} the Unicode
 * White_Space set (Oniguruma's UTF-8 default) instead of ASCII whitespace; {@code \p{L}} and {@code \p{N}} are
 * general categories in both. The expression matches every character, so pieces concatenate to the input.
 */
public final class PreTokenizer {

    /** GPT-2's pattern, character for character. */
    public static final String GPT2_REGEX =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    private static final Pattern PATTERN = Pattern.compile(GPT2_REGEX, Pattern.UNICODE_CHARACTER_CLASS);

    private PreTokenizer() {
    }

    public static void forEachPiece(CharSequence text, Consumer<String> action) {
        Matcher m = PATTERN.matcher(text);
        while (m.find()) {
            action.accept(m.group());
        }
    }

    public static List<String> pieces(CharSequence text) {
        List<String> out = new ArrayList<>();
        forEachPiece(text, out::add);
        return out;
    }

    /**
     * Cuts long text into chunks of about {@code max} characters or fewer whose pieces are exactly the pieces of the
     * whole text, so chunks can be pre-tokenized or encoded separately (in parallel, or within a native tokenizer's
     * memory limits) with the same result. A cut goes just before a whitespace character that follows a
     * non-whitespace one: every piece ends there (no piece crosses from non-space into space), and the whitespace
     * run after the cut sees the same characters up to its next non-space either way. Cuts before a newline are
     * preferred. Text without any such position is returned whole.
     */
    public static List<String> chunks(String text, int max) {
        if (max < 1) {
            throw new IllegalArgumentException("chunk size must be positive: " + max);
        }
        List<String> out = new ArrayList<>();
        int start = 0;
        int n = text.length();
        while (n - start > max) {
            int cut = -1;
            int fallback = -1;
            // Search backwards from start+max for a cut; accept one in the second half of the window.
            for (int q = start + max; q > start + max / 2; q--) {
                if (isCut(text, q)) {
                    if (text.charAt(q) == '\n') {
                        cut = q;
                        break;
                    }
                    if (fallback < 0) {
                        fallback = q;
                    }
                }
            }
            if (cut < 0) {
                cut = fallback;
            }
            if (cut < 0) {                          // nothing nearby: take the next possible cut, however far
                for (int q = start + max + 1; q < n; q++) {
                    if (isCut(text, q)) {
                        cut = q;
                        break;
                    }
                }
            }
            if (cut < 0) {
                break;
            }
            out.add(text.substring(start, cut));
            start = cut;
        }
        out.add(text.substring(start));
        return out;
    }

    private static boolean isCut(String t, int q) {
        return q > 0 && q < t.length() && isSpace(t.charAt(q)) && !isSpace(t.charAt(q - 1));
    }

    /** Unicode White_Space (the BMP part; no supplementary character is whitespace). */
    static boolean isSpace(char c) {
        return switch (c) {
            case '\t', '\n', '\u000B', '\f', '\r', ' ', '\u0085', '\u00A0', '\u1680', '\u2028', '\u2029', '\u202F',
                 '\u205F', '\u3000' -> true;
            default -> c >= '\u2000' && c <= '\u200A';
        };
    }
}
