package org.nestlm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trainer's tokenizer.json loads in DJL (TextTokenizer), round-trips, and DJL's ids equal the Java encoder's. */
class TokenizerJsonTest {

    @TempDir
    static Path dir;

    static BpeModel model;
    static Path file;
    static TextTokenizer djl;

    @BeforeAll
    static void train() throws IOException {
        String text = TestTexts.prose(4000, 11) + String.join("\n", TestTexts.TRICKY);
        model = BpeTrainer.train(WordCounts.count(List.of(text), text.length(), 2, false),
                new BpeTrainerConfig(800, 2, SpecialTokens.DEFAULT, 2, false));
        file = dir.resolve("tokenizer.json");
        TokenizerJson.write(model, file);
        djl = TextTokenizer.load(file);
    }

    @AfterAll
    static void close() {
        if (djl != null) {
            djl.close();
        }
    }

    private static int[] ints(long[] ids) {
        return Arrays.stream(ids).mapToInt(Math::toIntExact).toArray();
    }

    @Test
    void djlRoundTripsTrickyText() {
        for (String s : TestTexts.TRICKY) {
            assertEquals(s, djl.decode(djl.encode(s)), "round trip of '" + s + "'");
        }
        String prose = TestTexts.prose(300, 99);
        assertEquals(prose, djl.decode(djl.encode(prose)));
    }

    @Test
    void javaEncoderEqualsDjl() {
        BpeEncoder enc = new BpeEncoder(model);
        for (String s : TestTexts.TRICKY) {
            assertArrayEquals(ints(djl.encode(s)), enc.encode(s), "ids of '" + s + "'");
        }
        String unseen = TestTexts.prose(500, 12345);   // other seed: word sequences not seen in training
        assertArrayEquals(ints(djl.encode(unseen)), enc.encode(unseen));
        for (String line : unseen.split("\n")) {
            assertArrayEquals(ints(djl.encode(line)), enc.encode(line));
        }
    }

    @Test
    void specialTokensHaveTheirDocumentedIds() throws IOException {
        assertArrayEquals(new long[] {SpecialTokens.EOS_ID}, djl.encode(SpecialTokens.EOS));
        assertArrayEquals(new long[] {SpecialTokens.BOS_ID}, djl.encode(SpecialTokens.BOS));
        assertEquals(SpecialTokens.EOS_ID, SpecialTokens.eosId(file).orElseThrow());
        assertEquals("a" + SpecialTokens.EOS + "b", djl.decode(new long[] {
                djl.encode("a")[0], SpecialTokens.EOS_ID, djl.encode("b")[0]}));
    }

    @Test
    void readBackGivesTheSameModelAndIsRecognisedAsOwn() throws IOException {
        assertEquals(model, TokenizerJson.read(file));
        assertTrue(TokenizerJson.readOwn(file).isPresent());
        Path edited = dir.resolve("edited.json");
        Files.writeString(edited, Files.readString(file).replace("\"normalizer\" : null",
                "\"normalizer\" : {\"type\": \"Lowercase\"}"));
        assertTrue(TokenizerJson.readOwn(edited).isEmpty(), "a hand-edited file is not trusted to the Java encoder");
    }
}
