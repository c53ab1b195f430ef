package org.nestlm.tokenizer;

/**
 * GPT-2's reversible byte-to-character mapping, as Hugging Face's {@code ByteLevel} pre-tokenizer and decoder use it:
 * printable Latin-1 bytes ({@code !}..{@code ~}, {@code ¡}..{@code ¬}, {@code ®}..{@code ÿ}) stand for themselves,
 * the other 68 bytes (controls, space, {@code DEL}, {@code NBSP}, soft hyphen) map to U+0100 upward in byte order.
 * So every token is a printable string without spaces (space is {@code Ġ}, newline {@code Ċ}), and merges can be
 * written as {@code "left right"}.
 */
public final class ByteLevel {

    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[512];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) next++;
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {
    }

    public static char charOf(int b) {
        return BYTE_TO_CHAR[b & 0xff];
    }

    /** The byte a mapped character stands for, or -1 when it is not part of the mapping. */
    public static int byteOf(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /** The mapped form of some bytes, e.g. " the" (0x20 t h e) → "Ġthe". */
    public static String encode(byte[] bytes) {
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = BYTE_TO_CHAR[bytes[i] & 0xff];
        }
        return new String(out);
    }

    /** The bytes a mapped token stands for; fails on characters outside the mapping. */
    public static byte[] decode(String mapped) {
        byte[] out = new byte[mapped.length()];
        for (int i = 0; i < out.length; i++) {
            int b = byteOf(mapped.charAt(i));
            if (b < 0) {
                throw new IllegalArgumentException("'" + mapped + "' is not a byte-level token (character U+"
                        + Integer.toHexString(mapped.charAt(i)) + ")");
            }
            out[i] = (byte) b;
        }
        return out;
    }
}
