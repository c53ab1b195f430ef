package org.nestlm.train;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Run-directory fixtures shared by the training, elastic, slicing and CLI tests: a lock held as by another
 * process, a log cut by a kill, and the names and steps a test compares.
 */
public final class RunFixtures {

    private RunFixtures() {
    }

    /** The log of a run killed while it appended step 3, before its first checkpoint. */
    public static final String KILLED_LOG = """
            {"step":1,"tokens":128,"lr":0.001,"loss":4.1}
            {"step":2,"tokens":256,"lr":0.002,"loss":4.0}
            {"step":3,"to""";

    /**
     * Locks {@code run}'s lock file as another process would: {@link RunDirectory#open} then finds it held
     * ({@code tryLock} fails), as when a second process holds it. The lock file names process 4242.
     */
    public static FileChannel lockAsAnotherProcess(Path run) throws IOException {
        Files.createDirectories(run);
        FileChannel ch = FileChannel.open(run.resolve(RunDirectory.LOCK_FILE), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        FileLock lock = ch.tryLock();
        assertTrue(lock != null);
        ch.write(java.nio.ByteBuffer.wrap("4242\n".getBytes()), 0);
        return ch;
    }

    /** The names of the entries of directory {@code d}, sorted. */
    public static List<String> names(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** The {@code step} of every log entry, in order. */
    public static List<Integer> steps(List<JsonNode> entries) {
        return entries.stream().map(e -> e.get("step").asInt()).toList();
    }
}
