package org.nestlm.cli;

import org.nestlm.data.GrammarText;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The inputs of a training test: a generated corpus ({@link GrammarText}), a tokenizer trained on it through the CLI,
 * and a token cache directory, all under one directory.
 */
public record TokenizedCorpus(Path corpus, Path tokenizer, Path cache) {

    public static TokenizedCorpus make(Path dir, long seed, int sentences, int vocab) throws IOException {
        Path corpus = dir.resolve("corpus.txt");
        Files.writeString(corpus, GrammarText.text(seed, sentences), StandardCharsets.UTF_8);
        Path tokenizer = dir.resolve("tok.json");
        Path cache = dir.resolve("cache");
        CliRun.Run r = CliRun.run("tokenizer", "train", "--vocab", Integer.toString(vocab), "--corpus", corpus.toString(),
                "--out", tokenizer.toString(), "--quiet", "--dir", cache.toString());
        assertEquals(0, r.code(), r.err());
        return new TokenizedCorpus(corpus, tokenizer, cache);
    }
}
