package org.nestlm.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.train.RunFixtures;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every command that writes a run directory refuses one that another process holds: exit 2, one line naming the
 * directory, before any work (the inputs here are placeholders that would fail later). The holder is simulated by
 * locking the lock file directly (see {@link RunDirectoryTest}); {@code CliProcessTest} runs two processes.
 */
class OutputOwnershipTest {

    @TempDir
    Path dir;

    private void assertRefused(Path out, String... args) throws Exception {
        try (FileChannel other = RunFixtures.lockAsAnotherProcess(out)) {
            long t0 = System.nanoTime();
            CliRun.Run r = CliRun.run(args);
            double secs = (System.nanoTime() - t0) / 1e9;
            assertEquals(2, r.code(), r.out() + r.err());
            assertEquals("error: " + out + " is in use by process 4242 (lock .nestlm.lock); wait for it to finish, "
                    + "or choose another output directory", r.err().strip(), args[0]);
            assertFalse(r.err().contains("\tat "), "no stack trace");
            assertTrue(secs < 30, args[0] + " took " + secs + " s to refuse");   // a bound against hangs, not a speed target
        }
        try (var s = Files.list(out)) {
            assertEquals(List.of(out.resolve(".nestlm.lock")), s.toList(), "nothing written into the held directory");
        }
    }

    @Test
    void pretrainNewAndResumed() throws Exception {
        Path corpus = Files.writeString(dir.resolve("c.txt"), "some text\n");
        Path tok = Files.writeString(dir.resolve("tok.json"), "{}");
        Path out = dir.resolve("run");
        assertRefused(out, "pretrain", "--preset", "tiny", "--corpus", corpus.toString(), "--tokenizer", tok.toString(),
                "--tokens", "100000", "--out", out.toString());
        assertRefused(out, "pretrain", "--out", out.toString(), "--resume");
    }

    @Test
    void elastify() throws Exception {
        Path rankings = Files.writeString(dir.resolve("rankings.json"), "{}");
        Path out = dir.resolve("elastic");
        assertRefused(out, "elastify", "--teacher", dir.resolve("parent").toString(), "--rankings", rankings.toString(),
                "--budgets", "1.0,0.5", "--corpus", "c.txt", "--tokens", "100000", "--out", out.toString());
    }

    @Test
    void importancePermuteOut() throws Exception {
        Path ids = Files.writeString(dir.resolve("ids.txt"), "1 2 3");
        Path out = dir.resolve("permuted");
        assertRefused(out, "importance", "--model", dir.resolve("parent").toString(), "--ids-file", ids.toString(),
                "--out", dir.resolve("rankings.json").toString(), "--permute-out", out.toString());
    }

    @Test
    void demo() throws Exception {
        Path out = dir.resolve("demo");
        assertRefused(out, "demo", "--quick", "--out", out.toString(), "--dir", dir.resolve("cache").toString());
    }
}
