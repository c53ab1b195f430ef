package org.nestlm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PreTokenizerTest {

    @Test
    void splitsLikeGpt2() {
        assertEquals(List.of("Hello", ",", " world", "'s", " 42", "!"), PreTokenizer.pieces("Hello, world's 42!"));
        // \s+(?!\S) leaves the last space of a run to the next word.
        assertEquals(List.of("a", "  ", " b"), PreTokenizer.pieces("a   b"));
        assertEquals(List.of("x", "\n", "\n", "y"), PreTokenizer.pieces("x\n\ny"));   // as GPT-2: one per line
        assertEquals(List.of("end", "  "), PreTokenizer.pieces("end  "));
        assertEquals(List.of("caf\u00e9", " 東京", " 🙂🚀"), PreTokenizer.pieces("café 東京 🙂🚀"));
        // Unicode whitespace is whitespace (as in Oniguruma), not a symbol.
        assertEquals(List.of("a", "\u3000", "b"), PreTokenizer.pieces("a\u3000b"));
    }

    @Test
    void piecesConcatenateToTheInput() {
        for (String s : TestTexts.TRICKY) {
            assertEquals(s, String.join("", PreTokenizer.pieces(s)));
        }
    }

    @Test
    void chunksHaveExactlyThePiecesOfTheWholeText() {
        Random rnd = new Random(7);
        String[] atoms = {"a", "bc", " ", "  ", "\n", "\n\n", " \n", "\t", "'s", "12", ".", "é", "🙂", "\u00a0", "x "};
        for (int trial = 0; trial < 200; trial++) {
            StringBuilder sb = new StringBuilder();
            int n = 50 + rnd.nextInt(400);
            for (int i = 0; i < n; i++) {
                sb.append(atoms[rnd.nextInt(atoms.length)]);
            }
            String text = sb.toString();
            int max = 5 + rnd.nextInt(60);
            List<String> chunks = PreTokenizer.chunks(text, max);
            assertEquals(text, String.join("", chunks));
            List<String> pieces = new ArrayList<>();
            chunks.forEach(c -> pieces.addAll(PreTokenizer.pieces(c)));
            assertEquals(PreTokenizer.pieces(text), pieces, "chunks of " + max + " in trial " + trial);
        }
        assertTrue(PreTokenizer.chunks("x".repeat(1000), 10).size() == 1, "no cut point: one chunk");
        assertTrue(PreTokenizer.chunks(TestTexts.prose(2000, 1), 1000).size() > 50);
    }
}
