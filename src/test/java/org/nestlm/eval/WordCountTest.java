package org.nestlm.eval;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

class WordCountTest {

    @Test
    void whitespaceWordsAndWikitextLines() {
        assertEquals(0, WordCount.whitespaceWords("  \n\t "));
        assertEquals(4, WordCount.whitespaceWords(" The cat\tsat\n on"));
        assertEquals(4, WordCount.words(" = Title = \n", true));   // "=", "Title", "=" and one end of line
        assertEquals(7, WordCount.words("a @-@ b\n<unk> c\n", true));
    }

    /** The benchmark's count of WikiText-2 valid (docs/CORPORA.md §5.2): 217,646 words with one end-of-line token per line. */
    @Test
    void wikitext2ValidCount() throws Exception {
        Path f = EvalData.sharedData().resolve("wikitext-2").resolve("valid.txt");
        Assumptions.assumeTrue(Files.isRegularFile(f), "../shared/data/wikitext-2 is not present");
        String text = Files.readString(f, StandardCharsets.UTF_8);
        assertEquals(217_646, WordCount.words(text, true));
        assertEquals(1_121_681, text.getBytes(StandardCharsets.UTF_8).length);
    }
}
