package org.nestlm.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor inside a mapped safetensors file.
 *
 * <p>{@code data} is a read-only slice of the file mapping (no copy): row-major, little-endian,
 * {@code numel() * dtype.byteSize()} bytes, not necessarily aligned. It stays valid until the owning
 * {@link SafetensorsFile} (or {@link TensorStore}) is closed; after that any access throws
 * {@link IllegalStateException}.
 *
 * @param name  tensor name as in the header, e.g. {@code backbone.layers.0.mixer.in_proj.weight}
 * @param dtype element type as stored
 * @param shape dimensions, outermost first; {@code []} is a scalar (a copy is kept and handed out)
 * @param data  the tensor's bytes
 * @param file  the file the bytes come from (for error messages); may be null for in-memory entries
 */
public record TensorEntry(String name, DType dtype, long[] shape, MemorySegment data, Path file) {

    public TensorEntry {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(data, "data");
        shape = shape.clone();
        long expected;
        try {
            expected = Shapes.byteSize(shape, dtype);
        } catch (ArithmeticException | IllegalArgumentException e) {
            throw new IllegalArgumentException(where(file, name) + "invalid shape " + Arrays.toString(shape), e);
        }
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException(where(file, name) + "shape " + Arrays.toString(shape) + " of " + dtype
                    + " needs " + expected + " bytes but data has " + data.byteSize());
        }
    }

    /** The dimensions (a copy, so callers cannot change the entry). */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements: product of the dimensions (1 for a scalar, 0 if any dimension is 0). */
    public long numel() {
        return Shapes.numel(shape);
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i}. */
    public long dim(int i) {
        return shape[i];
    }

    /** Bytes of data: {@code numel() * dtype().byteSize()}. */
    public long byteSize() {
        return data.byteSize();
    }

    /**
     * Element {@code index} of the row-major flattening, converted to float (F64 is narrowed).
     *
     * @throws IllegalStateException     for integer and bool dtypes
     * @throws IndexOutOfBoundsException if {@code index} is outside {@code [0, numel())}
     */
    public float getFloat(long index) {
        long n = data.byteSize() / dtype.byteSize();
        if (index < 0 || index >= n) {
            throw new IndexOutOfBoundsException(where(file, name) + "index " + index + " out of range [0, " + n + ")");
        }
        return switch (dtype) {
            case F32 -> data.get(LittleEndian.F32, index * 4);
            case BF16 -> FloatFormats.bf16ToFloat(data.get(LittleEndian.I16, index * 2));
            case F16 -> FloatFormats.f16ToFloat(data.get(LittleEndian.I16, index * 2));
            case F64 -> (float) data.get(LittleEndian.F64, index * 8);
            default -> throw notFloat();
        };
    }

    /**
     * All elements converted to a new float[] (row-major).
     *
     * @throws IllegalStateException for integer and bool dtypes, or if numel exceeds the largest Java array
     */
    public float[] toFloatArray() {
        if (!dtype.isFloatingPoint()) {
            throw notFloat();
        }
        long n = numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException(where(file, name) + "has " + n + " elements, too many for one float[]"
                    + " (max " + (Integer.MAX_VALUE - 8) + "); read it in slices with getFloat or data()");
        }
        int count = (int) n;
        float[] out = new float[count];
        switch (dtype) {
            case F32 -> MemorySegment.copy(data, LittleEndian.F32, 0, out, 0, count);
            case BF16, F16 -> {
                // Bulk-copy the raw halves (fast, handles byte order), then widen in place.
                short[] raw = new short[count];
                MemorySegment.copy(data, LittleEndian.I16, 0, raw, 0, count);
                if (dtype == DType.BF16) {
                    for (int i = 0; i < count; i++) {
                        out[i] = FloatFormats.bf16ToFloat(raw[i]);
                    }
                } else {
                    for (int i = 0; i < count; i++) {
                        out[i] = FloatFormats.f16ToFloat(raw[i]);
                    }
                }
            }
            case F64 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = (float) data.get(LittleEndian.F64, (long) i * 8);
                }
            }
            default -> throw notFloat();
        }
        return out;
    }

    /**
     * The row-major index of the first NaN or infinity, or −1 when every element is finite (always −1 for the
     * integer and bool dtypes). A value is non-finite exactly when its exponent bits are all ones, so the scan
     * tests the exponent masks of 8/size elements per 64-bit word at once; about 1 ns per 8 bytes.
     */
    public long firstNonFinite() {
        int size = dtype.byteSize();
        long exponent = switch (dtype) {
            case BF16 -> 0x7F80L;
            case F16 -> 0x7C00L;
            case F32 -> 0x7F80_0000L;
            case F64 -> 0x7FF0_0000_0000_0000L;
            default -> 0;
        };
        if (exponent == 0) {
            return -1;
        }
        long n = data.byteSize() / size;
        int lanes = 8 / size;
        long mask = 0, low = 0, high = 0;   // the exponent mask, the lowest and the highest bit of every lane
        for (int l = 0; l < lanes; l++) {
            mask |= exponent << (8 * size * l);
            low |= 1L << (8 * size * l);
            high |= 1L << (8 * size * l + 8 * size - 1);
        }
        long words = n / lanes;
        for (long w = 0; w < words; w++) {
            // lanes of y are zero where the exponent is all ones; the classic zero-lane test (exact for "any")
            long y = (data.get(LittleEndian.I64, w * 8) & mask) ^ mask;
            if (((y - low) & ~y & high) != 0) {
                return firstNonFinite(w * lanes, n, size, exponent);
            }
        }
        return firstNonFinite(words * lanes, n, size, exponent);
    }

    /** The element-by-element scan of {@link #firstNonFinite()} from {@code from}. */
    private long firstNonFinite(long from, long n, int size, long exponent) {
        for (long i = from; i < n; i++) {
            long bits = switch (size) {
                case 2 -> data.get(LittleEndian.I16, i * 2);
                case 4 -> data.get(LittleEndian.I32, i * 4);
                default -> data.get(LittleEndian.I64, i * 8);
            };
            if ((bits & exponent) == exponent) {
                return i;
            }
        }
        return -1;
    }

    /** Element {@code index} as long, for the integer and bool dtypes (U8 and BOOL read unsigned). */
    public long getLong(long index) {
        long n = data.byteSize() / dtype.byteSize();
        if (index < 0 || index >= n) {
            throw new IndexOutOfBoundsException(where(file, name) + "index " + index + " out of range [0, " + n + ")");
        }
        return switch (dtype) {
            case I64 -> data.get(LittleEndian.I64, index * 8);
            case I32 -> data.get(LittleEndian.I32, index * 4);
            case I16 -> data.get(LittleEndian.I16, index * 2);
            case I8 -> data.get(ValueLayout.JAVA_BYTE, index);
            case U8, BOOL -> data.get(ValueLayout.JAVA_BYTE, index) & 0xFF;
            default -> throw new IllegalStateException(where(file, name) + "dtype " + dtype
                    + " is floating point; use getFloat");
        };
    }

    /**
     * The dimensions as ints, for APIs that take int shapes.
     *
     * @throws IllegalStateException if a dimension exceeds {@link Integer#MAX_VALUE}
     */
    public int[] shapeAsInts() {
        int[] out = new int[shape.length];
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] > Integer.MAX_VALUE) {
                throw new IllegalStateException(where(file, name) + "dimension " + i + " = " + shape[i]
                        + " does not fit in an int");
            }
            out[i] = (int) shape[i];
        }
        return out;
    }

    private IllegalStateException notFloat() {
        return new IllegalStateException(where(file, name) + "dtype " + dtype
                + " is not a floating-point type; cannot read it as float");
    }

    private static String where(Path file, String name) {
        return (file == null ? "" : file + ": ") + "tensor '" + name + "': ";
    }

    /** Entries are equal when name, dtype, shape, data segment (address and size) and file are equal. */
    @Override
    public boolean equals(Object o) {
        return o instanceof TensorEntry e && name.equals(e.name) && dtype == e.dtype && Arrays.equals(shape, e.shape)
                && data.equals(e.data) && Objects.equals(file, e.file);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), data, file);
    }

    @Override
    public String toString() {
        return "TensorEntry[" + name + " " + dtype + " " + Arrays.toString(shape) + ", " + data.byteSize()
                + " bytes, file=" + file + "]";
    }
}
