package org.nestlm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class BpeTrainerTest {

    private static BpeTrainerConfig cfg(int vocab) {
        return new BpeTrainerConfig(vocab, 2, SpecialTokens.DEFAULT, 2, false);
    }

    private static WordCounts counts(String text) {
        return WordCounts.count(List.of(text), text.length(), 2, false);
    }

    @Test
    void mergesTheMostFrequentPairFirstWithDeterministicTies() {
        // "Ġ" + "t" occurs in every " the", " to": the most frequent pair.
        String text = " the the the to to hat";
        BpeModel m = BpeTrainer.train(counts(text), cfg(259 + 3));
        assertEquals(262, m.vocabSize());
        assertEquals("Ġt", m.tokens().get(259));
        assertEquals(List.of("<|pad|>", "<|bos|>", "<|endoftext|>"), m.tokens().subList(0, 3));
        assertEquals("Ā", m.tokens().get(3), "byte 0 at id 3");
        BpeModel again = BpeTrainer.train(counts(text), cfg(262).withThreads(1));
        assertEquals(m, again, "same vocabulary and merges, whatever the threads");
    }

    @Test
    void stopsWhenNoPairIsFrequentEnough() {
        BpeModel m = BpeTrainer.train(counts("abc abc"), cfg(1000));
        assertTrue(m.vocabSize() < 1000);
        // "abc" twice: a+b, ab+c, then the space-less words hold no other pair of count 2.
        assertEquals(List.of("ab", "abc"), m.tokens().subList(259, m.vocabSize()));
    }

    @Test
    void mergeWordIsLeftToRightWithoutOverlap() {
        assertArrayEquals(new int[] {9, 1}, BpeTrainer.mergeWord(new int[] {1, 1, 1}, 1, 1, 9));
        assertArrayEquals(new int[] {9, 9}, BpeTrainer.mergeWord(new int[] {1, 1, 1, 1}, 1, 1, 9));
        int[] same = {1, 2, 3};
        assertTrue(same == BpeTrainer.mergeWord(same, 3, 1, 9), "unchanged word is returned as is");
    }

    @Test
    void trainedEncodingCompressesAndRoundTrips() {
        String text = TestTexts.prose(3000, 3);
        BpeModel m = BpeTrainer.train(counts(text), cfg(600));
        assertEquals(600, m.vocabSize());
        BpeEncoder enc = new BpeEncoder(m);
        int[] ids = enc.encode(text);
        assertTrue(ids.length * 2.5 < text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length,
                "a 600-token vocabulary compresses its own training text well: " + ids.length);
        assertEquals(text, enc.decode(ids));
        for (String s : TestTexts.TRICKY) {
            assertEquals(s, enc.decode(enc.encode(s)));
        }
    }

    @Test
    void configIsValidated() {
        var e = assertThrows(IllegalArgumentException.class, () -> cfg(100));
        assertTrue(e.getMessage().contains("259"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new BpeTrainerConfig(300, 0, List.of(), 1, false));
        assertThrows(IllegalArgumentException.class, () -> new BpeTrainerConfig(300, 2, List.of("a", "a"), 1, false));
    }
}
