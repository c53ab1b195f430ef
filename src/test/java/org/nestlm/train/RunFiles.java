package org.nestlm.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Byte-level comparison of two run directories (docs/REPRODUCIBILITY.md §2): every file of one is in the other
 * with the same bytes; {@code log.jsonl} is compared entry by entry without its timing fields
 * ({@link TrainLog#TIMING_FIELDS}), which measure the machine rather than the run.
 */
public final class RunFiles {

    private RunFiles() {
    }

    /** The relative paths of the regular files under {@code dir} that a run's result consists of, sorted. */
    public static List<String> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString())
                    .filter(RunFiles::partOfTheResult).sorted().toList();
        }
    }

    /** A run directory's lock file says who holds it, not what the run computed. */
    private static boolean partOfTheResult(String relative) {
        return !relative.endsWith(".lock");
    }

    /** {@code expected} and {@code actual} hold the same files with the same bytes (timing fields of the log aside). */
    public static void assertSameRun(Path expected, Path actual) throws IOException {
        List<String> names = files(expected);
        assertTrue(names.contains("log.jsonl") || names.contains("model.safetensors"), "no run in " + expected + ": " + names);
        assertEquals(names, files(actual), "files of " + actual + " against " + expected);
        List<String> differ = new ArrayList<>();
        for (String f : names) {
            if (f.equals("log.jsonl")) {
                assertEquals(withoutTiming(expected), withoutTiming(actual), "log.jsonl of " + actual);
            } else if (!Arrays.equals(Files.readAllBytes(expected.resolve(f)), Files.readAllBytes(actual.resolve(f)))) {
                differ.add(f);
            }
        }
        if (!differ.isEmpty()) {
            fail("files differ between " + expected + " and " + actual + ": " + differ);
        }
    }

    /** The log's entries as text, without timing fields. */
    public static List<String> withoutTiming(Path runDir) throws IOException {
        List<String> out = new ArrayList<>();
        for (JsonNode e : new TrainLog(runDir).entries()) {
            ObjectNode o = e.deepCopy();
            o.remove(TrainLog.TIMING_FIELDS);
            out.add(o.toString());
        }
        return out;
    }
}
