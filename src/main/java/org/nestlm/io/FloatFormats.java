package org.nestlm.io;

/**
 * Conversions between 32-bit floats and the two 16-bit formats found in checkpoints.
 *
 * <p>bf16 is the upper half of an IEEE float32 (1 sign, 8 exponent, 7 mantissa bits), so widening is a shift and
 * narrowing is a rounding of the lower 16 bits. The narrowing matches PyTorch's scalar
 * {@code c10::detail::round_to_nearest_even} for every non-NaN input (round to nearest, ties to even; values past
 * the largest finite bf16 become infinity). For NaN, PyTorch's scalar path returns {@code 0x7FC0} whatever the sign
 * (its vectorised CPU path returns {@code 0xFFFF}); we return the quiet NaN {@code 0x7FC0} with the input's sign
 * bit kept, so a NaN stays a NaN and the sign survives a round trip.
 *
 * <p>f16 (IEEE binary16) uses the JDK's own conversions, which round to nearest even like PyTorch.
 */
public final class FloatFormats {

    private FloatFormats() {
    }

    /** bf16 bits to float: exact (every bf16 value is a float). */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** float to bf16 bits, round to nearest even; NaN becomes quiet NaN {@code 0x7FC0 | sign}; ±Inf kept. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            // Rounding could carry a NaN with a small payload into Inf or clear its mantissa; force a quiet NaN.
            return (short) (((bits >>> 16) & 0x8000) | 0x7FC0);
        }
        // Adding 0x7FFF rounds up when the low half is > 0x8000; the extra lsb turns the exact tie 0x8000 into
        // "round up only if that makes the kept half even". A carry into the exponent is correct (it reaches
        // 0x7F80 = Inf for values above the largest finite bf16).
        int lsb = (bits >>> 16) & 1;
        return (short) ((bits + 0x7FFF + lsb) >>> 16);
    }

    /** IEEE binary16 bits to float: exact. */
    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** float to IEEE binary16 bits, round to nearest even; overflow goes to ±Inf. */
    public static short floatToF16(float f) {
        return Float.floatToFloat16(f);
    }
}
