package org.nestlm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.cli.Main;

/** The CLI wiring: tokenizer train → tokenizer.json that DJL loads; data tokens and data info on the same text. */
class TokenizerCommandTest {

    @TempDir
    Path dir;

    @Test
    void trainWritesALoadableTokenizerAndDataTokensCachesIds() throws IOException {
        Path texts = Files.createDirectories(dir.resolve("texts"));
        Files.writeString(texts.resolve("a.txt"), TestTexts.prose(800, 5));
        Files.writeString(texts.resolve("b.txt"), TestTexts.prose(800, 6));
        Path out = dir.resolve("tok/tokenizer.json");
        assertEquals(0, Main.run("tokenizer", "train", "--vocab", "400", "--corpus", texts.toString(),
                "--out", out.toString(), "--quiet"));
        try (TextTokenizer t = TextTokenizer.load(out)) {
            assertEquals("Round trip ✓ 🙂\n", t.decode(t.encode("Round trip ✓ 🙂\n")));
        }
        assertEquals(400, TokenizerJson.read(out).vocabSize());
        assertEquals(0, Main.run("data", "tokens", "--corpus", texts.toString(), "--tokenizer", out.toString(),
                "--dir", dir.resolve("cache").toString(), "--quiet"));
        try (var s = Files.list(dir.resolve("cache/tokens"))) {
            assertEquals(6, s.count(), "train, validation, test: .ids + .json each");
        }
        assertEquals(0, Main.run("data", "info", "--corpus", texts.toString()));
    }

    @Test
    void outAsADirectoryWritesTokenizerJsonInIt() throws IOException {
        Path texts = Files.createDirectories(dir.resolve("texts"));
        Files.writeString(texts.resolve("a.txt"), TestTexts.prose(300, 5));
        Path out = Files.createDirectories(dir.resolve("model"));
        assertEquals(0, Main.run("tokenizer", "train", "--vocab", "300", "--corpus", texts.toString(),
                "--out", out.toString(), "--quiet"));
        assertEquals(300, TokenizerJson.read(out.resolve("tokenizer.json")).vocabSize());
    }

    @Test
    void badInputIsAnErrorExitNotACrash() {
        assertEquals(2, Main.run("tokenizer", "train", "--vocab", "100", "--corpus", dir.toString(),
                "--out", dir.resolve("t.json").toString(), "--quiet"));
        assertEquals(2, Main.run("tokenizer", "train", "--vocab", "400", "--corpus", dir.resolve("missing").toString(),
                "--out", dir.resolve("t.json").toString(), "--quiet"));
        assertTrue(Files.notExists(dir.resolve("t.json")));
    }
}
