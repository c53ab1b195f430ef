package org.nestlm.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.nestlm.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code corpus/manifest.json}: which pinned packages the fetched corpus came from and the size and SHA-256 of every
 * document file, so that a second fetch can verify the cache and skip the download.
 *
 * @param format  layout version; a different value means "fetch again"
 * @param sources the packages, as pinned when fetched
 * @param files   every document file, path relative to {@code corpus/}, in reading order
 */
public record Manifest(int format, List<Source> sources, List<FileEntry> files) {

    /** Bump when the layout or the extraction changes, so that old caches are replaced. */
    public static final int FORMAT = 1;

    public static final String FILE_NAME = "manifest.json";

    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** @param sha256 the tarball checksum */
    public record Source(String set, String spec, String sha256) {
    }

    /** @param path relative to {@code corpus/}, with {@code /} separators, e.g. {@code gutenberg/austen-emma.txt} */
    public record FileEntry(String path, long bytes, String sha256) {
    }

    public static Manifest read(Path file) throws IOException {
        try {
            Manifest m = MAPPER.readValue(file.toFile(), Manifest.class);
            if (m.sources() == null || m.files() == null) {
                throw new IOException(file + ": missing field \"sources\" or \"files\"");
            }
            return m;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(file + ": not a valid manifest: " + e.getOriginalMessage(), e);
        }
    }

    public void write(Path file) throws IOException {
        AtomicFiles.writeBytes(file, MAPPER.writeValueAsBytes(this));
    }

    /** The files of one set ({@code gutenberg}, {@code sotu}, {@code brown}), in order. */
    public List<FileEntry> filesOf(String set) {
        return files.stream().filter(f -> f.path().startsWith(set + "/")).toList();
    }

    static boolean exists(Path corpusDir) {
        return Files.isRegularFile(corpusDir.resolve(FILE_NAME));
    }
}
