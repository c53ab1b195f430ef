package org.nestlm.train;

import org.nestlm.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The resumable state of a training run, {@code train_state/} inside the run directory. It is written
 * whole into {@code train_state.tmp/} and swapped in by renames, so a kill at any moment leaves the last
 * complete state (the previous one stays until the new one is in place).
 */
public final class RunDirectory {

    public static final String STATE_DIR = "train_state";

    private RunDirectory() {
    }

    public static Path state(Path run) {
        return run.resolve(STATE_DIR);
    }

    public static boolean hasState(Path run) {
        return Files.isDirectory(state(run));
    }

    /** Writes a new state with {@code writer} (which fills the given empty directory) and swaps it in. */
    public static void save(Path run, AtomicFiles.IOConsumer<Path> writer) throws IOException {
        Path tmp = run.resolve(STATE_DIR + ".tmp");
        Path state = state(run);
        Path old = run.resolve(STATE_DIR + ".old");
        deleteTree(tmp);
        Files.createDirectories(tmp);
        writer.accept(tmp);
        deleteTree(old);
        if (Files.exists(state)) {
            Files.move(state, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(tmp, state, StandardCopyOption.ATOMIC_MOVE);
        deleteTree(old);
    }

    /** Recovers from a kill between the two renames of {@link #save}: the old state is then the last complete one. */
    public static void recover(Path run) throws IOException {
        Path old = run.resolve(STATE_DIR + ".old");
        if (!Files.exists(state(run)) && Files.exists(old)) {
            Files.move(old, state(run), StandardCopyOption.ATOMIC_MOVE);
        }
    }

    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
