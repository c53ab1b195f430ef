package org.nestlm.data;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Bytes to text. User files must be UTF-8 (an error names the file and the byte offset, rather than silently
 * replacing characters); fetched package files may be Latin-1 (two Gutenberg books are), and are transcoded.
 */
public final class TextDecoding {

    private TextDecoding() {
    }

    /** Strict UTF-8; a leading byte-order mark is dropped. */
    public static String utf8(byte[] bytes, String source) {
        try {
            String s = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
            return s.startsWith("\uFEFF") ? s.substring(1) : s;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(source + ": not UTF-8 text (invalid byte sequence at byte offset "
                    + firstInvalid(bytes) + "); convert it first, e.g. iconv -f latin1 -t utf-8", e);
        }
    }

    /**
     * UTF-8 when the bytes are valid UTF-8, otherwise Latin-1 (ISO-8859-1, every byte one character). ASCII comes
     * out the same either way, so this equals docs/CORPORA.md §1.3's {@code iconv -f latin1 -t utf-8} for the Gutenberg files.
     */
    public static String utf8OrLatin1(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return new String(bytes, StandardCharsets.ISO_8859_1);
        }
    }

    private static long firstInvalid(byte[] bytes) {
        var dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        var out = java.nio.CharBuffer.allocate(bytes.length + 1);
        var r = dec.decode(in, out, true);
        return r.isMalformed() || r.isUnmappable() ? in.position() : -1;
    }
}
