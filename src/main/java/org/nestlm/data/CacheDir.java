package org.nestlm.data;

import java.nio.file.Path;

/**
 * Where nestlm keeps fetched corpora and token caches. First match wins: an explicit {@code --dir}, the
 * environment variable {@value #ENV}, {@code $XDG_CACHE_HOME/nestlm}, {@code ~/.cache/nestlm}.
 *
 * <p>Layout: {@code corpus/} (the fetched corpus, {@link FetchedData}), {@code tokens/} ({@code tokenizer.TokenCache}).
 */
public final class CacheDir {

    /** Environment variable that overrides the default cache directory. */
    public static final String ENV = "NESTLM_CACHE";

    private CacheDir() {
    }

    /** {@code override} when not null, else the default described above. */
    public static Path resolve(Path override) {
        if (override != null) {
            return override.toAbsolutePath();
        }
        String env = System.getenv(ENV);
        if (env != null && !env.isBlank()) {
            return Path.of(env).toAbsolutePath();
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) {   // the XDG spec ignores relative values
            return Path.of(xdg, "nestlm");
        }
        return Path.of(System.getProperty("user.home"), ".cache", "nestlm");
    }

    /** The default cache directory. */
    public static Path resolve() {
        return resolve(null);
    }
}
