package org.nestlm.cli;

import org.nestlm.data.CacheDir;
import org.nestlm.data.Corpora;
import org.nestlm.data.Corpus;
import org.nestlm.data.Split;
import org.nestlm.tokenizer.TokenCache;
import org.nestlm.tokenizer.TokenCacheInfo;
import org.nestlm.tokenizer.TokenIds;
import org.nestlm.tokenizer.TextTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code nestlm data tokens}: build (or find) the token caches of a corpus and report tokens and bytes per token. */
@Command(name = "tokens", mixinStandardHelpOptions = true,
        description = {"Encode the splits of a corpus with a tokenizer into memory-mapped token caches "
                + "(<cache>/tokens/<key>.ids + .json), reused by training and evaluation; prints token counts and "
                + "bytes per token."},
        footer = {"", "Examples:", "  nestlm data tokens --corpus default --tokenizer tokenizer.json",
                "  nestlm data tokens --corpus brown --tokenizer tokenizer.json --split test"})
final class DataTokensCommand implements Callable<Integer> {

    @Option(names = "--corpus", required = true, description = "'default', 'brown', a file, a directory or a JSONL file; repeatable.")
    List<String> corpus;

    @Option(names = "--tokenizer", required = true, description = "tokenizer.json (or a directory holding one).")
    Path tokenizer;

    @Option(names = "--split", split = ",", defaultValue = "train,validation,test",
            description = "Splits to encode, comma-separated (default: ${DEFAULT-VALUE}).")
    List<String> splits;

    @Option(names = "--dir", description = "Cache directory.")
    Path dir;

    @Option(names = "--quiet", description = "No progress bars.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        Path cache = CacheDir.resolve(dir);
        Corpus c = Corpora.open(corpus, cache);
        try (TextTokenizer tok = TextTokenizer.load(tokenizer)) {
            System.out.println(c.description() + " with " + tok.file());
            System.out.printf(Locale.ROOT, "  %-10s %12s %10s %12s %8s  %s%n", "split", "tokens", "documents", "bytes",
                    "B/token", "cache");
            for (String name : splits) {
                Split s = Split.parse(name);
                long t0 = System.nanoTime();
                try (TokenIds ids = TokenCache.ids(cache, c, s, tok, !quiet)) {
                    TokenCacheInfo i = ids.info();
                    System.out.printf(Locale.ROOT, "  %-10s %12d %10d %12d %8.3f  %s (%.1f s)%n", s.label(), i.tokens(),
                            i.documents(), i.bytes(), i.bytesPerToken(), ids.file(), (System.nanoTime() - t0) / 1e9);
                }
            }
        }
        return 0;
    }
}
