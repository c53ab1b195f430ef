package org.nestlm.cli;

import org.nestlm.data.CacheDir;
import org.nestlm.data.Corpora;
import org.nestlm.data.Corpus;
import org.nestlm.data.Split;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code nestlm data info}: documents, characters, bytes and words per split of a corpus. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show the size of each split of a corpus (documents, UTF-8 bytes, characters, words).",
        footer = {"", "Examples:", "  nestlm data info --corpus default", "  nestlm data info --corpus brown",
                "  nestlm data info --corpus notes/ --corpus extra.jsonl"})
final class DataInfoCommand implements Callable<Integer> {

    @Option(names = "--corpus", required = true, description = "'default', 'brown', a file, a directory or a JSONL file; repeatable.")
    List<String> corpus;

    @Option(names = "--dir", description = "Cache directory holding the fetched corpus.")
    Path dir;

    @Override
    public Integer call() throws Exception {
        Corpus c = Corpora.open(corpus, CacheDir.resolve(dir));
        System.out.println(c.description());
        System.out.printf(Locale.ROOT, "  %-10s %9s %14s %14s %12s%n", "split", "documents", "bytes", "chars", "words");
        for (Split s : Split.values()) {
            long[] docs = new long[1];
            long[] bytes = new long[1];
            long[] chars = new long[1];
            long[] words = new long[1];
            c.forEach(s, d -> {
                docs[0]++;
                bytes[0] += d.text().getBytes(StandardCharsets.UTF_8).length;
                chars[0] += d.text().length();
                words[0] += words(d.text());
            });
            System.out.printf(Locale.ROOT, "  %-10s %9d %14d %14d %12d%n", s.label(), docs[0], bytes[0], chars[0], words[0]);
        }
        return 0;
    }

    private static long words(String t) {
        long n = 0;
        for (int i = 0; i < t.length(); i++) {
            if (!Character.isWhitespace(t.charAt(i)) && (i == 0 || Character.isWhitespace(t.charAt(i - 1)))) {
                n++;
            }
        }
        return n;
    }
}
