package org.nestlm.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.regex.Pattern;

/**
 * Which files of a package tarball become documents of the fetched corpus, under which name, and how their bytes
 * become UTF-8 text.
 */
public enum Extraction {

    /** {@code package/gutenberg/*.txt}; two books are Latin-1, the rest ASCII (docs/CORPORA.md §1.2). */
    GUTENBERG(Pattern.compile("package/gutenberg/([A-Za-z0-9._-]+\\.txt)")) {
        @Override
        String text(byte[] raw) {
            return TextDecoding.utf8OrLatin1(raw);
        }
    },
    /** {@code package/data/*.txt}, one State of the Union address each (the {@code .json} twins are skipped). */
    SOTU(Pattern.compile("package/data/([A-Za-z0-9._-]+\\.txt)")) {
        @Override
        String text(byte[] raw) {
            return TextDecoding.utf8OrLatin1(raw);
        }
    },
    /** {@code package/c[a-r][0-9][0-9]}, the 500 tagged Brown texts, stored tag-stripped as {@code <name>.txt}. */
    BROWN(Pattern.compile("package/(c[a-r][0-9][0-9])")) {
        @Override
        String text(byte[] raw) {
            return BrownText.strip(TextDecoding.utf8OrLatin1(raw));
        }

        @Override
        String fileName(String base) {
            return base + ".txt";
        }
    },
    /**
     * {@code package/builds/doc-N.json}, each a JSON array of 1,000 English sentences, stored as {@code doc-N.txt}
     * with one sentence per line (docs/CORPORA.md §1.2).
     */
    SENTENCES(Pattern.compile("package/builds/(doc-[0-9]+)\\.json")) {
        @Override
        String text(byte[] raw) throws IOException {
            StringBuilder sb = new StringBuilder();
            for (JsonNode s : JSON.readTree(TextDecoding.utf8(raw, "nlp-corpus document"))) {
                if (!s.isTextual()) {
                    throw new IOException("nlp-corpus document: an entry that is not a string: " + s);
                }
                sb.append(s.asText()).append('\n');
            }
            return sb.toString();
        }

        @Override
        String fileName(String base) {
            return base + ".txt";
        }
    };

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Pattern entry;

    Extraction(Pattern entry) {
        this.entry = entry;
    }

    /** The stored file name for a tar entry, or null when the entry is not part of the corpus. */
    String nameOf(String entryName) {
        var m = entry.matcher(entryName);
        return m.matches() ? fileName(m.group(1)) : null;
    }

    String fileName(String base) {
        return base;
    }

    /** The document text, as UTF-8-ready Java text. */
    abstract String text(byte[] raw) throws IOException;
}
