package org.nestlm.infer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.tokenizer.TextTokenizer;
import org.nestlm.util.DjlRuntime;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The test tokenizer round-trips text through DJL's tokenizers, one id per character. */
class CharTokenizerTest {

    static {
        DjlRuntime.configure();
    }

    @Test
    void roundTrip(@TempDir Path dir) throws Exception {
        try (TextTokenizer t = TextTokenizer.load(CharTokenizer.write(dir))) {
            TokenText tt = TokenText.of(t);
            String s = "User: hi there\nAssistant:";
            int[] ids = tt.encode(s);
            assertEquals(s.length(), ids.length);
            assertEquals(CharTokenizer.CHARS.indexOf('U'), ids[0]);
            assertEquals(s, tt.decode(ids));
            assertArrayEquals(new int[] {1, 2}, tt.encode("ab"));
        }
    }
}
