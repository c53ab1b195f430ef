package org.nestlm.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every malformed input is refused with a message naming the file, the fault and (where relevant) the tensor. */
class SafetensorsValidationTest {

    @TempDir
    Path dir;

    private Path file() {
        return dir.resolve("bad.safetensors");
    }

    /** Opens {@code p}, expects a CheckpointFormatException, and checks the message names the file and faults. */
    private static CheckpointFormatException rejects(Path p, String... fragments) {
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> SafetensorsFile.open(p));
        String m = e.getMessage();
        assertTrue(m.startsWith(p.toString() + ": "), "message names the file: " + m);
        assertEquals(p, e.file());
        for (String f : fragments) {
            assertTrue(m.contains(f), "message should contain \"" + f + "\": " + m);
        }
        return e;
    }

    private static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin
                + "," + end + "]}";
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 7})
    void truncatedBeforeTheHeaderLength(int size) throws IOException {
        Files.write(file(), new byte[size]);
        rejects(file(), "truncated", size + " bytes");
    }

    @Test
    void headerLengthOverTheLimit() throws IOException {
        rejects(RawFiles.write(file(), 100_000_001L, "{}".getBytes(StandardCharsets.UTF_8), new byte[0]),
                "header length 100000001", "limit");
        // A u64 with the top bit set reads as negative in Java; the message shows the unsigned value.
        rejects(RawFiles.write(file(), -1L, "{}".getBytes(StandardCharsets.UTF_8), new byte[0]),
                "header length 18446744073709551615");
    }

    @Test
    void headerLengthBeyondTheFile() throws IOException {
        rejects(RawFiles.write(file(), 64, "{}".getBytes(StandardCharsets.UTF_8), new byte[0]),
                "truncated", "header length 64", "10 bytes");
    }

    @Test
    void headerNotJson() throws IOException {
        rejects(RawFiles.write(file(), "{\"a\": {\"dtype\": ", 0), "not valid JSON");
        rejects(RawFiles.write(file(), "hello", 0), "not valid JSON");
        rejects(RawFiles.write(file(), "", 0), "not a JSON object");
    }

    @Test
    void headerNotAnObject() throws IOException {
        rejects(RawFiles.write(file(), "[1,2,3]", 0), "not a JSON object");
        rejects(RawFiles.write(file(), "{\"w\": [1]}", 0), "'w'", "not a JSON object");
    }

    @Test
    void contentAfterTheHeaderObject() throws IOException {
        rejects(RawFiles.write(file(), "{} {}", 0), "after the JSON object");
    }

    @ParameterizedTest
    @ValueSource(strings = {"dtype", "shape", "data_offsets"})
    void entryMissingAField(String field) throws IOException {
        String full = "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";
        String without = full.replaceAll("\"" + field + "\":(\"[^\"]*\"|\\[[^\\]]*\\]),?", "").replace(",}", "}");
        rejects(RawFiles.write(file(), "{\"layer.w\":" + without + "}", 4), "'layer.w'", "\"" + field + "\"");
    }

    @Test
    void unknownDType() throws IOException {
        rejects(RawFiles.write(file(), "{" + entry("q.w", "F8_E4M3", "[4]", 0, 4) + "}", 4),
                "'q.w'", "unknown dtype 'F8_E4M3'");
        rejects(RawFiles.write(file(), "{" + entry("q.w", "bf16", "[2]", 0, 4) + "}", 4), "unknown dtype 'bf16'");
    }

    @Test
    void badShapes() throws IOException {
        rejects(RawFiles.write(file(), "{" + entry("n", "F32", "[2,-1]", 0, 0) + "}", 0), "'n'", "negative");
        rejects(RawFiles.write(file(), "{" + entry("n", "F32", "[1.5]", 0, 4) + "}", 4), "'n'", "non-integer");
        rejects(RawFiles.write(file(), "{" + entry("n", "F32", "3", 0, 12) + "}", 12), "'n'", "not an array");
        rejects(RawFiles.write(file(), "{" + entry("n", "F32", "[4294967296,4294967296]", 0, 4) + "}", 4),
                "'n'", "too large");
    }

    @Test
    void offsetsOutOfRange() throws IOException {
        rejects(RawFiles.write(file(), "{" + entry("r", "F32", "[0]", 8, 4) + "}", 8), "'r'", "[8, 4]", "begin <= end");
        rejects(RawFiles.write(file(), "{" + entry("r", "F32", "[3]", 0, 12) + "}", 11), "'r'", "[0, 12]",
                "out of range", "11 bytes");
        rejects(RawFiles.write(file(), "{" + entry("r", "F32", "[1]", -4, 0) + "}", 8), "'r'", "invalid");
        rejects(RawFiles.write(file(), "{\"r\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4),
                "'r'", "two integers");
    }

    @Test
    void byteSizeMismatch() throws IOException {
        rejects(RawFiles.write(file(), "{" + entry("a.weight", "BF16", "[2,3]", 0, 10) + "}", 12),
                "tensor 'a.weight': shape [2, 3] of BF16 needs 12 bytes but data_offsets give 10");
    }

    @Test
    void overlappingTensors() throws IOException {
        String json = "{" + entry("first", "F32", "[2]", 0, 8) + "," + entry("second", "F32", "[2]", 4, 12) + "}";
        rejects(RawFiles.write(file(), json, 12), "'first'", "'second'", "overlap");
        // Same range twice is an overlap as well.
        json = "{" + entry("x", "U8", "[4]", 0, 4) + "," + entry("y", "I32", "[1]", 0, 4) + "}";
        rejects(RawFiles.write(file(), json, 4), "overlap");
    }

    @Test
    void duplicateTensorNames() throws IOException {
        String json = "{" + entry("w", "F32", "[1]", 0, 4) + "," + entry("w", "F32", "[1]", 4, 8) + "}";
        rejects(RawFiles.write(file(), json, 8), "duplicate tensor name 'w'");
        // A key repeated inside one entry is refused too, rather than silently taking the last value.
        json = "{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        rejects(RawFiles.write(file(), json, 4), "dtype");
    }

    @Test
    void badMetadata() throws IOException {
        rejects(RawFiles.write(file(), "{\"__metadata__\":{\"format\":1}}", 0), "__metadata__", "'format'",
                "not a string");
        rejects(RawFiles.write(file(), "{\"__metadata__\":[]}", 0), "__metadata__", "not a JSON object");
    }

    @Test
    void missingFileAndDirectory() throws IOException {
        NoSuchFileException e = assertThrows(NoSuchFileException.class,
                () -> SafetensorsFile.open(dir.resolve("nope.safetensors")));
        assertTrue(e.getMessage().contains("nope.safetensors"), e.getMessage());
        rejects(Files.createDirectory(dir.resolve("d.safetensors")), "is a directory");
    }

    @Test
    void acceptedEdgeCases() throws IOException {
        // Empty header, zero-size tensors anywhere (even inside another's range), trailing whitespace.
        try (SafetensorsFile f = SafetensorsFile.open(RawFiles.write(file(), "{}", 0))) {
            assertTrue(f.tensors().isEmpty());
            assertTrue(f.metadata().isEmpty());
        }
        String json = "{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("empty", "BF16", "[0,7]", 2, 2) + ","
                + entry("b", "F32", "[1]", 4, 8) + ",\"__metadata__\":{\"k\":\"v\"}}   \n\t ";
        try (SafetensorsFile f = SafetensorsFile.open(RawFiles.write(file(), json, 8))) {
            assertEquals(3, f.tensors().size());
            assertEquals(0, f.tensors().get("empty").numel());
            assertEquals(0, f.tensors().get("empty").toFloatArray().length);
            assertEquals("v", f.metadata().get("k"));
        }
    }

    @Test
    void holesAndTrailingBytesInTheDataSection() throws IOException {
        // the format requires the tensors to tile the data section: a hole or bytes after the last are refused
        rejects(RawFiles.write(file(), "{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[16]", 68, 132)
                + "}", 132), "hole of 64 bytes", "[4, 68)", "'b'");
        rejects(RawFiles.write(file(), "{" + entry("a", "F32", "[1]", 4, 8) + "}", 8), "hole of 4 bytes", "'a'");
        rejects(RawFiles.write(file(), "{" + entry("a", "F32", "[1]", 0, 4) + "}", 68), "64 bytes after the last tensor");
        rejects(RawFiles.write(file(), "{}", 4), "4 bytes after the last tensor");
    }

    @Test
    void tensorLookupOnAFileNamesIt() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(RawFiles.write(file(), "{}", 0))) {
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> f.tensor("gone"));
            assertEquals(file() + ": missing tensor 'gone'", e.getMessage());
        }
    }
}
