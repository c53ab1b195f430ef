package org.nestlm.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SafetensorsRoundTripTest {

    @TempDir
    Path dir;

    private static float[] randomValues(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(-6, 5)));
        }
        return v;
    }

    private static List<TensorData> sample() {
        float[] special = {0f, -0f, 1f, -1f, 1.00390625f, Float.MIN_VALUE, Float.MAX_VALUE, Float.NaN,
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 3.14159265f, -65504f};
        return List.of(
                new TensorData("z.weight", new long[] {3, 5}, randomValues(15, 1)),
                new TensorData("a.special", new long[] {special.length}, special),
                new TensorData("m.scalar", new long[] {}, new float[] {2.5f}),
                new TensorData("m.empty", new long[] {0, 4}, new float[0]));
    }

    private static float expected(float v, DType dtype) {
        return switch (dtype) {
            case F32 -> v;
            case BF16 -> FloatFormats.bf16ToFloat(FloatFormats.floatToBf16(v));
            case F16 -> FloatFormats.f16ToFloat(FloatFormats.floatToF16(v));
            default -> throw new AssertionError(dtype);
        };
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16", "F16"})
    void roundTripKeepsValuesAfterExpectedRounding(DType dtype) throws IOException {
        Path file = dir.resolve("t.safetensors");
        List<TensorData> in = sample();
        SafetensorsWriter.write(file, in, dtype, Map.of("step", "7"));
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(List.of("a.special", "m.empty", "m.scalar", "z.weight"), List.copyOf(f.tensors().keySet()),
                    "header order = sorted names");
            assertEquals(Map.of("format", "pt", "step", "7"), f.metadata());
            assertEquals(file, f.path());
            for (TensorData t : in) {
                TensorEntry e = f.tensors().get(t.name());
                assertEquals(dtype, e.dtype());
                assertArrayEquals(t.shape(), e.shape());
                assertEquals(t.values().length, e.numel());
                float[] got = e.toFloatArray();
                for (int i = 0; i < got.length; i++) {
                    float want = expected(t.values()[i], dtype);
                    assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got[i]),
                            t.name() + "[" + i + "] " + dtype);
                    assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(e.getFloat(i)));
                }
            }
            assertEquals(0, f.tensors().get("m.scalar").rank());
            assertEquals(1, f.tensors().get("m.scalar").numel());
        }
    }

    @Test
    void largeTensorCrossesWriteChunks() throws IOException {
        // 700k floats = 2.8 MB F32, more than the writer's 1 MiB chunk, and not a multiple of it.
        float[] v = randomValues(700_001, 3);
        Path file = dir.resolve("big.safetensors");
        for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
            SafetensorsWriter.write(file, List.of(new TensorData("w", new long[] {700_001}, v)), dtype, Map.of());
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                float[] got = f.tensors().get("w").toFloatArray();
                for (int i = 0; i < v.length; i += 997) {
                    assertEquals(expected(v[i], dtype), got[i]);
                }
                assertEquals(expected(v[v.length - 1], dtype), got[v.length - 1]);
            }
        }
    }

    @Test
    void headerIsPaddedWithSpacesToMultipleOf8AndLaidOutCanonically() throws IOException {
        Path file = dir.resolve("t.safetensors");
        for (int extra = 0; extra < 8; extra++) {   // vary the JSON length over all residues mod 8
            SafetensorsWriter.write(file, List.of(new TensorData("w" + "x".repeat(extra), new long[] {2},
                    new float[] {1, 2})), DType.BF16, Map.of());
            byte[] bytes = Files.readAllBytes(file);
            long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, n % 8, "header length " + n);
            String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
            String trimmed = header.stripTrailing();
            assertTrue(trimmed.endsWith("}"));
            assertTrue(header.substring(trimmed.length()).chars().allMatch(c -> c == ' '), "padding is spaces");
            assertTrue(header.length() - trimmed.length() < 8);
            assertTrue(header.startsWith("{\"__metadata__\":{\"format\":\"pt\"},"), header);
            assertEquals(8 + n + 4, bytes.length, "two bf16 values follow the header");
        }
    }

    @Test
    void dataOffsetsAreContiguousInNameOrder() throws IOException {
        String h = SafetensorsWriter.headerString(List.of(
                new TensorData("b", new long[] {3}, new float[3]),
                new TensorData("a", new long[] {2, 1}, new float[2])), DType.F32, Map.of("k", "v"));
        assertEquals("{\"__metadata__\":{\"format\":\"pt\",\"k\":\"v\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2,1],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[8,20]}}", h.stripTrailing());
    }

    @Test
    void twoWritesAreByteIdenticalWhateverTheInputOrder() throws IOException {
        List<TensorData> in = new ArrayList<>(sample());
        Map<String, String> meta1 = new LinkedHashMap<>();
        meta1.put("zeta", "1");
        meta1.put("alpha", "2");
        meta1.put("mid", "3");
        Map<String, String> meta2 = new HashMap<>(Map.of("mid", "3", "alpha", "2", "zeta", "1"));
        Path f1 = dir.resolve("one.safetensors");
        Path f2 = dir.resolve("two.safetensors");
        SafetensorsWriter.write(f1, in, DType.BF16, meta1);
        java.util.Collections.reverse(in);
        SafetensorsWriter.write(f2, in, DType.BF16, meta2);
        assertArrayEquals(Files.readAllBytes(f1), Files.readAllBytes(f2));
    }

    @Test
    void duplicateNamesAreRejectedNamingTheTensor() {
        List<TensorData> in = List.of(new TensorData("dup", new long[] {1}, new float[1]),
                new TensorData("ok", new long[] {1}, new float[1]),
                new TensorData("dup", new long[] {1}, new float[1]));
        Path file = dir.resolve("d.safetensors");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SafetensorsWriter.write(file, in, DType.F32, Map.of()));
        assertTrue(e.getMessage().contains("'dup'"), e.getMessage());
        assertTrue(Files.notExists(file));
    }

    @Test
    void writerRejectsIntegerDTypesAndReservedName() {
        Path file = dir.resolve("x.safetensors");
        List<TensorData> one = List.of(new TensorData("w", new long[] {1}, new float[1]));
        assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.write(file, one, DType.I32, Map.of()));
        assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.write(file,
                List.of(new TensorData("__metadata__", new long[] {1}, new float[1])), DType.F32, Map.of()));
    }

    @Test
    void tensorDataValidatesElementCount() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TensorData("w", new long[] {2, 3}, new float[5]));
        assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("6 elements"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new TensorData("w", new long[] {-1}, new float[0]));
        assertEquals(6, new TensorData("w", new int[] {2, 3}, new float[6]).values().length);
    }

    @Test
    void writeEntriesCopiesEncodedBytesUnchanged() throws IOException {
        Path src = dir.resolve("src.safetensors");
        Path copy = dir.resolve("copy.safetensors");
        SafetensorsWriter.write(src, sample(), DType.BF16, Map.of("a", "b"));
        try (SafetensorsFile f = SafetensorsFile.open(src)) {
            List<TensorEntry> entries = new ArrayList<>(f.tensors().values());
            java.util.Collections.reverse(entries);
            SafetensorsWriter.writeEntries(copy, entries, Map.of("a", "b"));
        }
        // Same canonical layout, so the copy is the same file.
        assertArrayEquals(Files.readAllBytes(src), Files.readAllBytes(copy));
    }

    @Test
    void writeEntriesMixesDTypesFromDifferentFiles() throws IOException {
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        Path out = dir.resolve("out.safetensors");
        SafetensorsWriter.write(a, List.of(new TensorData("x", new long[] {2}, new float[] {1.5f, -2f})),
                DType.BF16, Map.of());
        SafetensorsWriter.write(b, List.of(new TensorData("y", new long[] {1}, new float[] {0.1f})),
                DType.F32, Map.of());
        try (SafetensorsFile fa = SafetensorsFile.open(a); SafetensorsFile fb = SafetensorsFile.open(b)) {
            SafetensorsWriter.writeEntries(out, List.of(fb.tensors().get("y"), fa.tensors().get("x")), Map.of());
        }
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertEquals(DType.BF16, f.tensors().get("x").dtype());
            assertEquals(DType.F32, f.tensors().get("y").dtype());
            assertArrayEquals(new float[] {1.5f, -2f}, f.tensors().get("x").toFloatArray());
            assertArrayEquals(new float[] {0.1f}, f.tensors().get("y").toFloatArray());
        }
    }

    @Test
    void dataIsInvalidAfterCloseAndCloseIsIdempotent() throws IOException {
        Path file = dir.resolve("t.safetensors");
        SafetensorsWriter.write(file, sample(), DType.F32, Map.of());
        SafetensorsFile f = SafetensorsFile.open(file);
        TensorEntry e = f.tensors().get("z.weight");
        f.close();
        f.close();
        assertThrows(IllegalStateException.class, () -> e.getFloat(0));
        assertThrows(UnsupportedOperationException.class, () -> f.tensors().clear());
    }
}
