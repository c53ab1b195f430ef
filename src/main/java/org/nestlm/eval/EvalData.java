package org.nestlm.eval;

import org.nestlm.data.Corpora;
import org.nestlm.data.Split;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One held-out set named on the command line ({@code --data}):
 * <ul>
 *   <li>{@code wikitext2} — WikiText-2 valid from {@code ../shared/data/wikitext-2/valid.txt}, or
 *       {@code wikitext2:FILE}: scored as is ({@code <unk>}, {@code @-@} and headings included), words counted the
 *       benchmark's way ({@link WordCount});</li>
 *   <li>{@code blimp} — every paradigm in {@code ../shared/data/blimp/}; a {@code .jsonl} file or a directory of
 *       them — BLiMP minimal pairs;</li>
 *   <li>{@code default:test}, {@code sentences:test}, {@code brown:test} (any split) — a split of the fetched
 *       corpora;</li>
 *   <li>any other path — a plain UTF-8 text file (or directory of {@code *.txt}), scored whole.</li>
 * </ul>
 *
 * @param label    as shown in tables and JSON
 * @param kind     how it is scored
 * @param spec     corpus spec ({@code default}, {@code sentences}, {@code brown}) or a path
 * @param split    the split of a corpus ({@link Split#ALL} for files)
 * @param wikitext words counted WikiText's way
 */
public record EvalData(String label, Kind kind, String spec, Split split, boolean wikitext) {

    public enum Kind { TEXT, BLIMP }

    /** Where the evaluation sets provided beside the project live, if anywhere (docs/CORPORA.md §5.1). */
    public static Path sharedData() {
        List<Path> candidates = new ArrayList<>();
        String env = System.getenv("NESTLM_SHARED_DATA");
        if (env != null && !env.isBlank()) {
            candidates.add(Path.of(env));
        }
        candidates.add(Path.of("..", "shared", "data"));
        try {
            // the jar is REPO/target/nestlm.jar (classes: REPO/target/classes): REPO/../shared/data
            Path code = Path.of(EvalData.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path repo = code.getParent() == null ? null : code.getParent().getParent();
            if (repo != null) {
                candidates.add(repo.resolve("..").resolve("shared").resolve("data"));
            }
        } catch (URISyntaxException | SecurityException | NullPointerException e) {
            // no code location: only the other candidates
        }
        for (Path p : candidates) {
            if (Files.isDirectory(p)) {
                return p.toAbsolutePath().normalize();
            }
        }
        return Path.of("..", "shared", "data").toAbsolutePath().normalize();
    }

    /** Parses one {@code --data} value; paths must exist. */
    public static EvalData parse(String s) throws IOException {
        String v = s.trim();
        String lower = v.toLowerCase(Locale.ROOT);
        if (lower.equals("wikitext2") || lower.equals("wikitext-2")) {
            return file("wikitext2", sharedData().resolve("wikitext-2").resolve("valid.txt"), true);
        }
        if (lower.startsWith("wikitext2:")) {
            Path p = Path.of(v.substring("wikitext2:".length()));
            return file(p.getFileName().toString(), p, true);
        }
        if (lower.equals("blimp")) {
            return blimp("blimp", sharedData().resolve("blimp"));
        }
        List<String> fetched = List.of(Corpora.DEFAULT, Corpora.SENTENCES, Corpora.BROWN);
        for (String corpus : fetched) {
            if (lower.startsWith(corpus + ":")) {
                Split split = Split.parse(v.substring(corpus.length() + 1));
                return new EvalData(corpus + ":" + split.label(), Kind.TEXT, corpus, split, false);
            }
        }
        if (fetched.contains(lower)) {
            return new EvalData(lower + ":test", Kind.TEXT, lower, Split.TEST, false);
        }
        Path p = Path.of(v);
        if (!Files.exists(p)) {
            throw new NoSuchFileException(p + ": no such file or directory (--data takes wikitext2, blimp, default:test, "
                    + "sentences:test, brown:test, a text file, a .jsonl file or a directory)");
        }
        if (isBlimp(p)) {
            return blimp(p.getFileName().toString(), p);
        }
        return file(p.getFileName().toString(), p, false);
    }

    private static boolean isBlimp(Path p) throws IOException {
        if (Files.isDirectory(p)) {
            try (var s = Files.list(p)) {
                return s.anyMatch(f -> f.getFileName().toString().endsWith(".jsonl"));
            }
        }
        return p.getFileName().toString().endsWith(".jsonl");
    }

    private static EvalData file(String label, Path p, boolean wikitext) throws NoSuchFileException {
        if (!Files.exists(p)) {
            throw new NoSuchFileException(p + ": not found" + (wikitext ? " (WikiText-2 is expected in ../shared/data/wikitext-2/; "
                    + "pass wikitext2:FILE or set NESTLM_SHARED_DATA)" : ""));
        }
        return new EvalData(label, Kind.TEXT, p.toAbsolutePath().toString(), Split.ALL, wikitext);
    }

    private static EvalData blimp(String label, Path p) throws NoSuchFileException {
        if (!Files.exists(p)) {
            throw new NoSuchFileException(p + ": not found (BLiMP is expected in ../shared/data/blimp/; pass a directory "
                    + "of .jsonl files or set NESTLM_SHARED_DATA)");
        }
        return new EvalData(label, Kind.BLIMP, p.toAbsolutePath().toString(), Split.ALL, false);
    }
}
