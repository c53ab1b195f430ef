package org.nestlm.tokenizer;

import org.nestlm.data.Corpus;
import org.nestlm.data.Document;
import org.nestlm.data.FileCorpus;
import org.nestlm.data.Split;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.IntBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenCacheTest {

    @TempDir
    static Path dir;

    static Corpus corpus;
    static TextTokenizer tok;

    @BeforeAll
    static void setUp() throws IOException {
        Path texts = Files.createDirectories(dir.resolve("texts"));
        for (int i = 0; i < 6; i++) {
            Files.writeString(texts.resolve("doc" + i + ".txt"), TestTexts.prose(150 + 40 * i, i));
        }
        // One document longer than a chunk, so chunked encoding is exercised.
        Files.writeString(texts.resolve("long.txt"), TestTexts.prose(9000, 77));
        corpus = new FileCorpus(List.of(texts));
        Path tj = dir.resolve("tokenizer.json");
        TokenizerJson.write(BpeTrainer.train(corpus, Split.TRAIN,
                new BpeTrainerConfig(700, 2, SpecialTokens.DEFAULT, 2, false)), tj);
        tok = TextTokenizer.load(tj);
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    /** What the cache must hold: each document's DJL ids, encoded whole, then end-of-text. */
    private static int[] expected(Split split) throws IOException {
        List<Integer> out = new ArrayList<>();
        for (Document d : corpus.documents(split)) {
            for (long id : tok.encode(d.text())) {
                out.add((int) id);
            }
            out.add(SpecialTokens.EOS_ID);
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void cachedIdsEqualDjlEncodingOfEachDocumentAndAreReused() throws IOException {
        Path cache = dir.resolve("cache1");
        int[] want = expected(Split.TRAIN);
        assertTrue(corpus.documents(Split.TRAIN).stream().anyMatch(d -> d.text().length() > TokenCache.CHUNK_CHARS));
        Path file;
        try (TokenIds ids = TokenCache.ids(cache, corpus, Split.TRAIN, tok, false)) {
            assertEquals(want.length, ids.size());
            int[] got = new int[want.length];
            ids.read(0, got, got.length);
            assertArrayEquals(want, got);
            IntBuffer buf = ids.buffer();
            assertEquals(want[want.length - 2], buf.get(want.length - 2));
            assertEquals(SpecialTokens.EOS_ID, ids.get(ids.size() - 1));
            assertEquals(7, ids.info().documents());
            assertTrue(ids.info().bytesPerToken() > 1.5, "bytes per token " + ids.info().bytesPerToken());
            file = ids.file();
        }
        Files.setLastModifiedTime(file, FileTime.fromMillis(0));
        try (TokenIds again = TokenCache.ids(cache, corpus, Split.TRAIN, tok, false)) {
            assertEquals(file, again.file());
            assertEquals(FileTime.fromMillis(0), Files.getLastModifiedTime(file), "reused, not rewritten");
        }
        try (TokenIds val = TokenCache.ids(cache, corpus, Split.VALIDATION, tok, false)) {
            assertNotEquals(file, val.file(), "each split has its own cache");
            int[] got = new int[(int) val.size()];
            val.read(0, got, got.length);
            assertArrayEquals(expected(Split.VALIDATION), got);
        }
        try (var s = Files.list(cache.resolve("tokens"))) {
            List<String> names = s.map(p -> p.getFileName().toString()).sorted().toList();
            assertEquals(4, names.size(), "two .ids + two .json, no temp files: " + names);
        }
    }

    @Test
    void djlAndJavaEncodersBuildIdenticalCaches() throws IOException {
        try (TokenIds java = TokenCache.ids(dir.resolve("java"), corpus, Split.ALL, tok, false, true);
             TokenIds djl = TokenCache.ids(dir.resolve("djl"), corpus, Split.ALL, tok, false, false)) {
            assertEquals(djl.size(), java.size());
            assertTrue(Arrays.equals(Files.readAllBytes(djl.file()), Files.readAllBytes(java.file())));
        }
    }

    @Test
    void aChangedCorpusMakesANewCache() throws IOException {
        Path cache = dir.resolve("cache2");
        Path one = Files.writeString(dir.resolve("one.txt"), "First version of the text.\n".repeat(40));
        Path f1;
        try (TokenIds a = TokenCache.ids(cache, new FileCorpus(List.of(one)), Split.ALL, tok, false)) {
            f1 = a.file();
        }
        Files.writeString(one, "Second version of the text.\n".repeat(40));
        try (TokenIds b = TokenCache.ids(cache, new FileCorpus(List.of(one)), Split.ALL, tok, false)) {
            assertNotEquals(f1, b.file());
        }
    }
}
