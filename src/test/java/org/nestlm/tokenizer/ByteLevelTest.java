package org.nestlm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ByteLevelTest {

    @Test
    void isABijectionWithGpt2sKnownCharacters() {
        Set<Character> seen = new HashSet<>();
        for (int b = 0; b < 256; b++) {
            char c = ByteLevel.charOf(b);
            assertEquals(b, ByteLevel.byteOf(c));
            seen.add(c);
        }
        assertEquals(256, seen.size());
        assertEquals('Ġ', ByteLevel.charOf(' '));
        assertEquals('Ċ', ByteLevel.charOf('\n'));
        assertEquals('ĉ', ByteLevel.charOf('\t'));
        assertEquals('A', ByteLevel.charOf('A'));
        assertEquals('Ā', ByteLevel.charOf(0));
        assertEquals("Ġthe", ByteLevel.encode(" the".getBytes()));
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) {
            all[i] = (byte) i;
        }
        assertArrayEquals(all, ByteLevel.decode(ByteLevel.encode(all)));
        assertThrows(IllegalArgumentException.class, () -> ByteLevel.decode(" "));
    }
}
