package org.nestlm.data;

import java.io.IOException;
import java.nio.file.Path;

/** Downloads one package tarball into a directory; {@link NpmPack} in production, a stub in tests. */
@FunctionalInterface
public interface PackageFetcher {

    /** Writes the tarball of {@code source} into {@code dir} and returns its path. */
    Path fetch(NpmSource source, Path dir) throws IOException;
}
