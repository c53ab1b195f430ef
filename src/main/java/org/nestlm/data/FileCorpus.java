package org.nestlm.data;

import org.nestlm.io.AtomicFiles.IOConsumer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The user's own text: files and directories. A {@code .jsonl} file holds one document per line (a JSON object with
 * a string field {@code text}); any other file is one UTF-8 document; a directory contributes every {@code *.txt}
 * below it, recursively, in path order. The split is {@link SplitRule} applied to each document.
 */
public final class FileCorpus implements Corpus {

    private final List<Path> roots;
    private final SplitRule rule;

    public FileCorpus(List<Path> roots, SplitRule rule) {
        if (roots.isEmpty()) {
            throw new IllegalArgumentException("a file corpus needs at least one file or directory");
        }
        this.roots = List.copyOf(roots);
        this.rule = rule;
    }

    public FileCorpus(List<Path> roots) {
        this(roots, SplitRule.DEFAULT);
    }

    @Override
    public String description() {
        return String.join(" + ", roots.stream().map(Path::toString).toList());
    }

    @Override
    public void forEach(Split split, IOConsumer<Document> action) throws IOException {
        for (Path file : files()) {
            IOConsumer<Document> splitting = d -> {
                String part = rule.part(d.text(), split);
                if (!part.isEmpty()) {
                    action.accept(new Document(d.name(), part));
                }
            };
            if (isJsonl(file)) {
                JsonlReader.read(file, splitting);
            } else {
                splitting.accept(new Document(file.toString(), TextDecoding.utf8(Files.readAllBytes(file),
                        file.toString())));
            }
        }
    }

    /** The files this corpus reads, in order; fails naming the first path that does not exist or holds no text. */
    public List<Path> files() throws IOException {
        List<Path> out = new ArrayList<>();
        for (Path root : roots) {
            if (Files.isDirectory(root)) {
                List<Path> found;
                try (Stream<Path> s = Files.walk(root)) {
                    found = s.filter(p -> Files.isRegularFile(p)
                                    && p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".txt"))
                            .sorted((a, b) -> root.relativize(a).toString().compareTo(root.relativize(b).toString()))
                            .toList();
                }
                if (found.isEmpty()) {
                    throw new NoSuchFileException(root + ": directory holds no *.txt files");
                }
                out.addAll(found);
            } else if (Files.isRegularFile(root)) {
                out.add(root);
            } else {
                throw new NoSuchFileException(root + ": no such file or directory (--corpus takes files, "
                        + "directories, JSONL files or 'default')");
            }
        }
        return out;
    }

    static boolean isJsonl(Path file) {
        return file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".jsonl");
    }
}
