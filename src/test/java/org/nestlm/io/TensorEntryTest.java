package org.nestlm.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reading elements of every dtype from a hand-made file. A 1-byte U8 tensor comes first, so every later tensor
 * starts at an odd address: the reads must not assume alignment.
 */
class TensorEntryTest {

    @TempDir
    Path dir;

    private SafetensorsFile file;

    @BeforeEach
    void craft() throws IOException {
        byte[] data = RawFiles.concat(
                new byte[] {(byte) 200},                          // u8     [0,1)
                RawFiles.f32(1.5f, -2.25f, 1e-30f),               // f32    [1,13)
                RawFiles.u16(0x3F80, 0xC040, 0x7F80),             // bf16   [13,19)  1, -3, +Inf
                RawFiles.u16(0x3C00, 0xC500, 0x0001),             // f16    [19,25)  1, -5, 2^-24
                RawFiles.f64(0.1, -1e300),                        // f64    [25,41)
                RawFiles.i32(-7, 123456),                         // i32    [41,49)
                new byte[] {1, 0});                               // bool   [49,51)
        String json = "{\"u8\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                + "\"f32\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[1,13]},"
                + "\"bf16\":{\"dtype\":\"BF16\",\"shape\":[1,3],\"data_offsets\":[13,19]},"
                + "\"f16\":{\"dtype\":\"F16\",\"shape\":[3,1],\"data_offsets\":[19,25]},"
                + "\"f64\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[25,41]},"
                + "\"i32\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[41,49]},"
                + "\"bool\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[49,51]}}";
        file = SafetensorsFile.open(RawFiles.write(dir.resolve("all.safetensors"), json, data));
    }

    @AfterEach
    void close() {
        file.close();
    }

    private TensorEntry t(String name) {
        return file.tensors().get(name);
    }

    @Test
    void floatTypesReadLittleEndianUnaligned() {
        assertArrayEquals(new float[] {1.5f, -2.25f, 1e-30f}, t("f32").toFloatArray());
        assertEquals(-2.25f, t("f32").getFloat(1));
        assertArrayEquals(new float[] {1f, -3f, Float.POSITIVE_INFINITY}, t("bf16").toFloatArray());
        assertEquals(-3f, t("bf16").getFloat(1));
        assertArrayEquals(new float[] {1f, -5f, 0x1p-24f}, t("f16").toFloatArray());
        assertEquals(0x1p-24f, t("f16").getFloat(2));
        assertArrayEquals(new float[] {0.1f, Float.NEGATIVE_INFINITY}, t("f64").toFloatArray(),
                "F64 is narrowed to float");
        assertEquals(0.1f, t("f64").getFloat(0));
    }

    @Test
    void shapesAndCounts() {
        assertArrayEquals(new long[] {1, 3}, t("bf16").shape());
        assertArrayEquals(new int[] {3, 1}, t("f16").shapeAsInts());
        assertEquals(2, t("bf16").rank());
        assertEquals(3, t("bf16").numel());
        assertEquals(6, t("bf16").byteSize());
        assertEquals(file.path(), t("bf16").file());
        long[] s = t("bf16").shape();
        s[0] = 99;
        assertEquals(1, t("bf16").shape()[0], "shape() hands out a copy");
    }

    @Test
    void integerTypesAreNotFloats() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t("i32").getFloat(0));
        assertTrue(e.getMessage().contains("'i32'") && e.getMessage().contains("I32"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> t("u8").toFloatArray());
        assertThrows(IllegalStateException.class, () -> t("bool").getFloat(0));
        assertEquals(-7, t("i32").getLong(0));
        assertEquals(123456, t("i32").getLong(1));
        assertEquals(200, t("u8").getLong(0), "U8 reads unsigned");
        assertEquals(1, t("bool").getLong(0));
        assertThrows(IllegalStateException.class, () -> t("f32").getLong(0));
    }

    @Test
    void indexOutOfRange() {
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> t("f32").getFloat(3));
        assertTrue(e.getMessage().contains("'f32'"), e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> t("bf16").getFloat(-1));
    }

    @Test
    void dataIsAReadOnlySliceOfTheMapping() {
        MemorySegment d = t("f32").data();
        assertTrue(d.isReadOnly());
        assertTrue(d.isMapped());
        assertEquals(12, d.byteSize());
    }

    @Test
    void entryRejectsDataOfTheWrongSize() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TensorEntry("w",
                DType.BF16, new long[] {2, 3}, MemorySegment.ofArray(new byte[10]), null));
        assertTrue(e.getMessage().contains("needs 12 bytes"), e.getMessage());
    }

    @Test
    void tooManyElementsForAnArrayIsAClearError() throws IOException {
        // A sparse 4 GiB file: mapping it costs no disk or memory, and the check fires before any allocation.
        long bytes = 1L << 32;
        String json = "{\"huge\":{\"dtype\":\"BF16\",\"shape\":[" + (bytes / 2) + "],\"data_offsets\":[0," + bytes
                + "]}}";
        Path p = RawFiles.write(dir.resolve("huge.safetensors"), json, new byte[0]);
        try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
            raf.setLength(raf.length() + bytes);
        }
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            TensorEntry huge = f.tensors().get("huge");
            assertEquals(bytes / 2, huge.numel());
            IllegalStateException e = assertThrows(IllegalStateException.class, huge::toFloatArray);
            assertTrue(e.getMessage().contains("'huge'") && e.getMessage().contains("too many"), e.getMessage());
            assertEquals(0f, huge.getFloat(bytes / 2 - 1), "elements past 2^31 are still reachable");
        }
        TensorEntry empty = new TensorEntry("e", DType.F32, new long[] {0, 5}, MemorySegment.ofArray(new byte[0]),
                null);
        assertEquals(0, empty.toFloatArray().length);
    }

    /** The word-at-a-time scan finds the first NaN or infinity in every lane position and in the tail, per dtype. */
    @Test
    void firstNonFiniteFindsEveryPositionOfEveryFloatType() {
        float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        for (DType d : new DType[] {DType.BF16, DType.F16, DType.F32, DType.F64}) {
            for (int n : new int[] {1, 3, 8, 13}) {
                for (int at = -1; at < n; at++) {
                    for (float special : specials) {
                        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(n * d.byteSize() + 1)
                                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
                        b.put((byte) 0);   // odd start: unaligned words
                        for (int i = 0; i < n; i++) {
                            // the largest finite values sit next to the non-finite exponent
                            float v = i == at ? special : (i % 2 == 0 ? -65504f : 65504f);
                            switch (d) {
                                case BF16 -> b.putShort(FloatFormats.floatToBf16(i == at ? v : v / 2));
                                case F16 -> b.putShort(Float.floatToFloat16(v));
                                case F32 -> b.putFloat(i == at ? v : Float.MAX_VALUE);
                                default -> b.putDouble(i == at ? v : -Double.MAX_VALUE);
                            }
                        }
                        MemorySegment seg = MemorySegment.ofArray(b.array()).asSlice(1);
                        TensorEntry e = new TensorEntry("t", d, new long[] {n}, seg, null);
                        assertEquals(at, e.firstNonFinite(), d + " n=" + n + " at=" + at + " " + special);
                    }
                }
            }
        }
        assertEquals(-1, t("i32").firstNonFinite(), "integer types hold no NaN");
    }
}
