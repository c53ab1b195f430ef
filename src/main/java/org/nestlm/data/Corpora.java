package org.nestlm.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns {@code --corpus} values into a {@link Corpus}. Each value is one of:
 * <ul>
 *   <li>{@code default} — the fetched Gutenberg + State of the Union corpus ({@link FetchedCorpus});</li>
 *   <li>{@code sentences} — the fetched 100,000 modern English sentences ({@link FetchedCorpus});</li>
 *   <li>{@code brown} — the fetched Brown Corpus, the out-of-domain held-out set ({@link BrownCorpus});</li>
 *   <li>a path: a text file, a {@code .jsonl} file (field {@code text}), or a directory (every {@code *.txt} below
 *       it) — {@link FileCorpus}. Write {@code ./default} for a file that happens to be named {@code default}.</li>
 * </ul>
 * Several values are read one after the other.
 */
public final class Corpora {

    public static final String DEFAULT = "default";
    public static final String BROWN = "brown";
    public static final String SENTENCES = "sentences";

    private Corpora() {
    }

    /** @param cacheDir where {@code data fetch} put the corpus (see {@link CacheDir#resolve(Path)}) */
    public static Corpus open(List<String> specs, Path cacheDir) throws IOException {
        if (specs == null || specs.isEmpty()) {
            throw new IllegalArgumentException("--corpus is required: 'default', 'sentences', 'brown', files, directories or JSONL");
        }
        List<Corpus> parts = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        for (String spec : specs) {
            if (spec.equals(DEFAULT) || spec.equals(SENTENCES) || spec.equals(BROWN)) {
                if (!files.isEmpty()) {
                    parts.add(new FileCorpus(files));
                    files = new ArrayList<>();
                }
                parts.add(switch (spec) {
                    case DEFAULT -> FetchedCorpus.defaults(cacheDir);
                    case SENTENCES -> FetchedCorpus.sentences(cacheDir);
                    default -> BrownCorpus.open(cacheDir);
                });
            } else if (spec.isBlank()) {
                throw new IllegalArgumentException("--corpus: empty value");
            } else {
                files.add(Path.of(spec));
            }
        }
        if (!files.isEmpty()) {
            parts.add(new FileCorpus(files));
        }
        return parts.size() == 1 ? parts.getFirst() : new CompositeCorpus(parts);
    }

    public static Corpus open(List<String> specs) throws IOException {
        return open(specs, CacheDir.resolve());
    }
}
