package org.nestlm.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DemoStateTest {

    @TempDir
    Path dir;

    /** Completed stages survive a restart (that is how a killed demo resumes); another plan's directory is refused. */
    @Test
    void resumesAndRefusesOtherPlans() throws Exception {
        DemoState s = DemoState.open(dir, "quick");
        assertFalse(s.isDone("parent"));
        s.corpus(List.of("/x/builtin"));
        s.markDone("parent", 12.5);
        DemoState again = DemoState.open(dir, "quick");
        assertTrue(again.isDone("parent"));
        assertEquals(12.5, again.seconds("parent"));
        assertEquals(List.of("/x/builtin"), again.corpus());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DemoState.open(dir, "default"));
        assertTrue(e.getMessage().contains(dir.resolve(DemoState.FILE).toString()));
        Files.writeString(dir.resolve(DemoState.FILE), "{not json");
        assertTrue(assertThrows(java.io.IOException.class, () -> DemoState.open(dir, "quick")).getMessage().contains(DemoState.FILE));
    }

    @Test
    void builtinCorpusExtracts() throws Exception {
        Path d = BuiltinCorpus.extract(dir.resolve("builtin"));
        for (String f : BuiltinCorpus.FILES) {
            assertTrue(Files.size(d.resolve(f)) > 50_000);
        }
    }
}
