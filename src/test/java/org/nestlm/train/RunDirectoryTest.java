package org.nestlm.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.io.AtomicFiles;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nestlm.train.RunFixtures.lockAsAnotherProcess;
import static org.nestlm.train.RunFixtures.names;
import static org.nestlm.train.RunFixtures.steps;

/**
 * Ownership of a run directory: the lock, the removal of a killed writer's leftovers, and the log a restart
 * starts with. Another process holding the lock is simulated by locking the lock file directly, which is what
 * {@link RunDirectory#open} finds when a second process holds it ({@code tryLock} fails); the cross-process run is
 * {@code RunDirectoryProcessTest}.
 */
public class RunDirectoryTest {

    @TempDir
    Path dir;

    @Test
    void aHeldDirectoryIsRefusedWithItsNameAndHolder() throws IOException {
        Path run = dir.resolve("run");
        try (FileChannel other = lockAsAnotherProcess(run)) {
            IOException e = assertThrows(IOException.class, () -> RunDirectory.open(run));
            assertTrue(e.getMessage().contains(run.toString()) && e.getMessage().contains("in use by process 4242"),
                    e.getMessage());
        }
        try (RunDirectory d = RunDirectory.open(run)) {
            assertEquals(run, d.path());   // free again once the holder is gone
        }
    }

    @Test
    void reentrantForItsThreadRefusedForAnother() throws Exception {
        Path run = dir.resolve("run");
        try (RunDirectory outer = RunDirectory.open(run)) {
            try (RunDirectory inner = RunDirectory.open(run)) {
                assertEquals(outer.path(), inner.path());
            }
            // still held after the inner close
            IOException e = CompletableFuture.supplyAsync(() -> {
                try {
                    RunDirectory.open(run).close();
                    return null;
                } catch (IOException x) {
                    return x;
                }
            }).get();
            assertTrue(e != null && e.getMessage().contains("in use"), String.valueOf(e));
        }
        CompletableFuture.runAsync(() -> {
            try {
                RunDirectory.open(run).close();
            } catch (IOException x) {
                throw new RuntimeException(x);
            }
        }).get();
    }

    @Test
    void removesTheTemporariesOfAKilledRunAndNothingElse() throws IOException {
        Path run = Files.createDirectories(dir.resolve("run"));
        Files.writeString(run.resolve(".model.safetensors.3f9a2c.tmp"), "half");
        Files.writeString(run.resolve(".loss.png.7b.tmp"), "half");
        Files.createDirectories(run.resolve("train_state.tmp"));
        Files.writeString(run.resolve("train_state.tmp/optimizer.safetensors"), "half");
        Files.writeString(run.resolve("model.safetensors"), "whole");
        Files.writeString(run.resolve("notes.tmp"), "the user's");
        Files.writeString(run.resolve(".hidden"), "the user's");
        Files.createDirectories(run.resolve("train_state"));
        Files.writeString(run.resolve("train_state/state.json"), "{}");
        try (RunDirectory d = RunDirectory.open(run)) {
            assertEquals(List.of(".hidden", RunDirectory.LOCK_FILE, "model.safetensors", "notes.tmp", "train_state"),
                    names(run));
        }
    }

    @Test
    void aKillBetweenTheStateRenamesIsRecoveredAtOpen() throws IOException {
        Path run = Files.createDirectories(dir.resolve("run"));
        Files.createDirectories(run.resolve("train_state.old"));
        Files.writeString(run.resolve("train_state.old/state.json"), "{\"step\":4}");
        try (RunDirectory d = RunDirectory.open(run)) {
            assertEquals("{\"step\":4}", Files.readString(run.resolve("train_state/state.json")));
            assertFalse(Files.exists(run.resolve("train_state.old")));
        }
    }

    @Test
    void aFreshLogIsEmptyAResumedOneEndsAtTheCheckpoint() throws IOException {
        Path run = dir.resolve("run");
        StringBuilder old = new StringBuilder();
        for (int s = 1; s <= 10; s++) {
            old.append("{\"step\":").append(s).append(",\"loss\":1.0}\n");
        }
        old.append("{\"step\":11,\"lo");   // cut by the kill
        Files.createDirectories(run);
        Files.writeString(run.resolve("log.jsonl"), old);
        try (RunDirectory d = RunDirectory.open(run)) {
            TrainLog resumed = d.log(8);
            assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8), steps(resumed.entries()));
            assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8), steps(new TrainLog(run).entries()), "on disk too");
            TrainLog fresh = d.log(0);
            assertEquals(List.of(), fresh.entries());
            assertEquals("", Files.readString(run.resolve("log.jsonl")));
        }
    }

    @Test
    void aBrokenLineInsideTheLogIsAnErrorNamingIt() throws IOException {
        Path run = Files.createDirectories(dir.resolve("run"));
        Files.writeString(run.resolve("log.jsonl"), "{\"step\":1}\nnot json\n{\"step\":2}\n");
        IOException e = assertThrows(IOException.class, () -> new TrainLog(run));
        assertTrue(e.getMessage().contains("log.jsonl: line 2"), e.getMessage());
    }

    @Test
    void publishMovesTheCompleteDirectoryAndDiscardRemovesIt() throws IOException {
        Path work = dir.resolve(".out.slicing"), target = dir.resolve("out");
        try (RunDirectory d = RunDirectory.open(work)) {
            AtomicFiles.writeString(work.resolve("config.json"), "{}");
            d.publish(target);
            assertEquals(target, d.path());
        }
        assertEquals(List.of("config.json"), names(target));
        assertFalse(Files.exists(work));
        try (RunDirectory d = RunDirectory.open(work)) {
            AtomicFiles.writeString(work.resolve("config.json"), "{}");
            assertThrows(java.nio.file.FileAlreadyExistsException.class, () -> d.publish(target));
            d.discard();
        }
        assertFalse(Files.exists(work));
    }

    @Test
    void aFileInThePlaceOfTheDirectoryIsAClearError() throws IOException {
        Path f = Files.writeString(dir.resolve("run"), "x");
        IOException e = assertThrows(IOException.class, () -> RunDirectory.open(f));
        assertTrue(e.getMessage().contains("not a directory"), e.getMessage());
    }
}
