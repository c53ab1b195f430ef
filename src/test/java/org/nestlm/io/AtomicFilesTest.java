package org.nestlm.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {

    @TempDir
    Path dir;

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aDirectoryInThePlaceOfTheFileIsAClearErrorAndStays() throws IOException {
        Path d = Files.createDirectories(dir.resolve("out"));
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.writeString(d, "x"));
        assertEquals(d + " is a directory; give a file name", e.getMessage());
        assertEquals(List.of("out"), names());
    }

    @Test
    void copyGetsTheUmaskAndTempNamesAreRecognised() throws IOException {
        Path src = Files.writeString(dir.resolve("a"), "content ✓");
        Files.setPosixFilePermissions(src, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Path ref = Files.writeString(dir.resolve("ref"), "");
        AtomicFiles.copy(src, dir.resolve("b"));
        assertEquals("content ✓", Files.readString(dir.resolve("b")));
        assertEquals(Files.getPosixFilePermissions(ref), Files.getPosixFilePermissions(dir.resolve("b")));
        assertEquals(List.of("a", "b", "ref"), names());
        assertTrue(AtomicFiles.isTemporary(".model.safetensors.7f3a09bc12d4e5f6.tmp"));
        assertFalse(AtomicFiles.isTemporary("notes.tmp"));
        assertFalse(AtomicFiles.isTemporary(".hidden.tmp"));
    }

    @Test
    void writesAndReplacesLeavingNoTempFile() throws IOException {
        Path f = dir.resolve("out.txt");
        AtomicFiles.writeString(f, "first ✓");
        assertEquals("first ✓", Files.readString(f));
        AtomicFiles.writeBytes(f, new byte[] {1, 2, 3});
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(f));
        AtomicFiles.write(f, ch -> ch.write(ByteBuffer.wrap(new byte[] {9})));
        assertArrayEquals(new byte[] {9}, Files.readAllBytes(f), "replaced, not overwritten in place");
        assertEquals(List.of("out.txt"), names());
    }

    @Test
    void failingBodyKeepsTheOldFileAndRemovesTheTemp() throws IOException {
        Path f = dir.resolve("keep.txt");
        Files.writeString(f, "original");
        IOException boom = new IOException("disk on fire");
        IOException thrown = assertThrows(IOException.class, () -> AtomicFiles.write(f, ch -> {
            ch.write(ByteBuffer.wrap("partial".getBytes()));
            throw boom;
        }));
        assertSame(boom, thrown);
        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(f, ch -> {
            ch.write(ByteBuffer.wrap("partial".getBytes()));
            throw new IllegalStateException("bug");
        }));
        assertEquals("original", Files.readString(f));
        assertEquals(List.of("keep.txt"), names());
    }

    @Test
    void failingBodyWithNoPreviousFileLeavesNothing() throws IOException {
        Path f = dir.resolve("new.bin");
        assertThrows(IOException.class, () -> AtomicFiles.write(f, ch -> {
            throw new IOException("no");
        }));
        assertEquals(List.of(), names());
    }

    @Test
    void createsMissingParentDirectories() throws IOException {
        Path f = dir.resolve("a/b/c.txt");
        AtomicFiles.writeString(f, "x");
        assertEquals("x", Files.readString(f));
    }

    @Test
    void relativePathsWork() throws IOException {
        Path f = Path.of("").toAbsolutePath().relativize(dir.resolve("rel.txt"));
        AtomicFiles.writeString(f, "r");
        assertEquals("r", Files.readString(dir.resolve("rel.txt")));
    }
}
