package org.nestlm.data;

import org.nestlm.io.AtomicFiles.IOConsumer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code --corpus default}: the fetched Gutenberg books and State of the Union addresses (22.5 MB), split by the tail
 * of each document with {@link SplitRule#DEFAULT} (90 % train, 5 % validation, 5 % test).
 */
public final class DefaultCorpus implements Corpus {

    private final Path corpusDir;
    private final Manifest manifest;

    private DefaultCorpus(Path corpusDir, Manifest manifest) {
        this.corpusDir = corpusDir;
        this.manifest = manifest;
    }

    /** Fails with a "run nestlm data fetch" message when the cache holds no corpus. */
    public static DefaultCorpus open(Path cacheDir) throws IOException {
        return new DefaultCorpus(FetchedData.corpusDir(cacheDir), FetchedData.manifest(cacheDir));
    }

    @Override
    public String description() {
        return "default (" + String.join(" + ", manifest.sources().stream()
                .filter(s -> FetchedData.DEFAULT_SETS.contains(s.set())).map(Manifest.Source::spec).toList()) + ")";
    }

    @Override
    public void forEach(Split split, IOConsumer<Document> action) throws IOException {
        for (String set : FetchedData.DEFAULT_SETS) {
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

    /** The document files, in reading order. */
    public List<Path> files() {
        return FetchedData.DEFAULT_SETS.stream().flatMap(s -> manifest.filesOf(s).stream())
                .map(f -> corpusDir.resolve(f.path())).toList();
    }
}
