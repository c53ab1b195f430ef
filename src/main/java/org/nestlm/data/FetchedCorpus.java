package org.nestlm.data;

import org.nestlm.io.AtomicFiles.IOConsumer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * A training corpus made of fetched sets, split by the tail of each document with {@link SplitRule#DEFAULT} (90 %
 * train, 5 % validation, 5 % test; docs/CORPORA.md §3.1): {@code --corpus default}, the Gutenberg books and State of
 * the Union addresses (22.5 MB), and {@code --corpus sentences}, 100,000 modern English sentences (8.8 MB).
 */
public final class FetchedCorpus implements Corpus {

    private final String name;
    private final List<String> sets;
    private final Path corpusDir;
    private final Manifest manifest;

    private FetchedCorpus(String name, List<String> sets, Path corpusDir, Manifest manifest) {
        this.name = name;
        this.sets = List.copyOf(sets);
        this.corpusDir = corpusDir;
        this.manifest = manifest;
    }

    /** {@code --corpus default}; fails with a "run nestlm data fetch" message when the cache holds no corpus. */
    public static FetchedCorpus defaults(Path cacheDir) throws IOException {
        return open(cacheDir, Corpora.DEFAULT, FetchedData.DEFAULT_SETS);
    }

    /** {@code --corpus sentences}; fails with a "run nestlm data fetch" message when the cache lacks it. */
    public static FetchedCorpus sentences(Path cacheDir) throws IOException {
        return open(cacheDir, Corpora.SENTENCES, List.of(FetchedData.SENTENCES_SET));
    }

    private static FetchedCorpus open(Path cacheDir, String name, List<String> sets) throws IOException {
        Manifest m = FetchedData.manifest(cacheDir);
        if (m.sources().stream().noneMatch(s -> sets.contains(s.set()))) {
            throw new NoSuchFileException(FetchedData.corpusDir(cacheDir) + ": the fetched data has no " + sets
                    + " (--corpus " + name + "; it was fetched by an older nestlm); run `nestlm data fetch` again");
        }
        return new FetchedCorpus(name, sets, FetchedData.corpusDir(cacheDir), m);
    }

    @Override
    public String description() {
        return name + " (" + String.join(" + ", manifest.sources().stream()
                .filter(s -> sets.contains(s.set())).map(Manifest.Source::spec).toList()) + ")";
    }

    @Override
    public void forEach(Split split, IOConsumer<Document> action) throws IOException {
        for (String set : sets) {
            for (Manifest.FileEntry f : manifest.filesOf(set)) {
                Path p = corpusDir.resolve(f.path());
                String text = TextDecoding.utf8(Files.readAllBytes(p), p.toString());
                String part = SplitRule.DEFAULT.part(text, split);
                if (!part.isEmpty()) {
                    action.accept(new Document(f.path(), part));
                }
            }
        }
    }
}
