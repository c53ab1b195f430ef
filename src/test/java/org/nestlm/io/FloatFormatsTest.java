package org.nestlm.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FloatFormatsTest {

    private static int bf16(int floatBits) {
        return FloatFormats.floatToBf16(Float.intBitsToFloat(floatBits)) & 0xFFFF;
    }

    @Test
    void bf16RoundsToNearestEvenOnKnownPatterns() {
        assertEquals(0x3F80, FloatFormats.floatToBf16(1.0f) & 0xFFFF);
        assertEquals(0x3F80, bf16(0x3F80_8000), "tie between 0x3F80 and 0x3F81 goes to even 0x3F80");
        assertEquals(0x3F82, bf16(0x3F81_8000), "tie between 0x3F81 and 0x3F82 goes to even 0x3F82");
        assertEquals(0x3F81, bf16(0x3F80_8001), "just above the tie rounds up");
        assertEquals(0x3F80, bf16(0x3F80_7FFF), "just below the tie rounds down");
        assertEquals(0xBF80, bf16(0xBF80_8000), "negative tie to even");
        assertEquals(0x7F80, bf16(0x7F7F_FFFF), "largest finite float rounds to +Inf");
        assertEquals(0xFF80, bf16(0xFF7F_FFFF), "most negative finite float rounds to -Inf");
        assertEquals(0x7F7F, bf16(0x7F7F_7FFF), "largest finite bf16 stays finite");
    }

    @Test
    void bf16SpecialValues() {
        assertEquals(0x7F80, FloatFormats.floatToBf16(Float.POSITIVE_INFINITY) & 0xFFFF);
        assertEquals(0xFF80, FloatFormats.floatToBf16(Float.NEGATIVE_INFINITY) & 0xFFFF);
        assertEquals(0x0000, FloatFormats.floatToBf16(0.0f) & 0xFFFF);
        assertEquals(0x8000, FloatFormats.floatToBf16(-0.0f) & 0xFFFF);
        assertEquals(0x7FC0, FloatFormats.floatToBf16(Float.NaN) & 0xFFFF);
        assertEquals(0xFFC0, bf16(0xFFC0_0000), "negative NaN keeps its sign");
        // A NaN whose payload sits only in the low half would truncate to Inf; it must stay NaN.
        assertEquals(0x7FC0, bf16(0x7F80_0001));
        assertEquals(0x7FC0, bf16(0x7FFF_FFFF), "NaN must not carry into the sign bit");
        assertTrue(Float.isNaN(FloatFormats.bf16ToFloat((short) 0x7FC0)));
        assertEquals(Float.POSITIVE_INFINITY, FloatFormats.bf16ToFloat((short) 0x7F80));
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(FloatFormats.bf16ToFloat((short) 0x8000)));
        assertEquals(1.0f, FloatFormats.bf16ToFloat((short) 0x3F80));
        assertEquals(-2.0f, FloatFormats.bf16ToFloat((short) 0xC000));
    }

    @Test
    void bf16WideningIsExactForAllPatterns() {
        for (int b = 0; b < 0x10000; b++) {
            float f = FloatFormats.bf16ToFloat((short) b);
            assertEquals(b << 16, Float.floatToRawIntBits(f));
            if (!Float.isNaN(f)) {
                assertEquals(b, FloatFormats.floatToBf16(f) & 0xFFFF, "round trip of 0x" + Integer.toHexString(b));
            }
        }
    }

    /** Reference: pick the nearer of the two bf16 neighbours by exact arithmetic in double, ties to even. */
    @Test
    void bf16MatchesNearestNeighbourReferenceOnRandomFloats() {
        SplittableRandom r = new SplittableRandom(42);
        for (int i = 0; i < 200_000; i++) {
            int bits = r.nextInt();
            float f = Float.intBitsToFloat(bits);
            if (Float.isNaN(f) || Float.isInfinite(f)) {
                continue;
            }
            int down = bits >>> 16;          // truncation toward zero (in magnitude)
            int up = down + 1;               // next bf16 away from zero (may be Inf)
            double x = f;
            double dDown = Math.abs(x - FloatFormats.bf16ToFloat((short) down));
            double upValue = (up & 0x7FFF) == 0x7F80
                    ? Math.copySign(Math.pow(2, 128), x) // Inf behaves as 2^128 for rounding purposes
                    : FloatFormats.bf16ToFloat((short) up);
            double dUp = Math.abs(x - upValue);
            int expected = dDown < dUp ? down : dUp < dDown ? up : ((down & 1) == 0 ? down : up);
            assertEquals(expected & 0xFFFF, FloatFormats.floatToBf16(f) & 0xFFFF,
                    "float bits 0x" + Integer.toHexString(bits));
        }
    }

    @Test
    void f16KnownPatterns() {
        assertEquals(0x3C00, FloatFormats.floatToF16(1.0f) & 0xFFFF);
        assertEquals(0x7BFF, FloatFormats.floatToF16(65504f) & 0xFFFF, "largest finite f16");
        assertEquals(0x7C00, FloatFormats.floatToF16(65520f) & 0xFFFF, "halfway past the largest finite -> Inf");
        assertEquals(0x3C00, FloatFormats.floatToF16(1f + 0x1p-11f) & 0xFFFF, "tie to even");
        assertEquals(0x3C02, FloatFormats.floatToF16(1f + 3 * 0x1p-11f) & 0xFFFF, "tie to even (up)");
        assertEquals(0x0001, FloatFormats.floatToF16(0x1p-24f) & 0xFFFF, "smallest subnormal");
        assertEquals(0x8000, FloatFormats.floatToF16(-0.0f) & 0xFFFF);
        assertEquals(0xFC00, FloatFormats.floatToF16(Float.NEGATIVE_INFINITY) & 0xFFFF);
        assertTrue(Float.isNaN(FloatFormats.f16ToFloat(FloatFormats.floatToF16(Float.NaN))));
        assertEquals(65504f, FloatFormats.f16ToFloat((short) 0x7BFF));
        assertEquals(0x1p-24f, FloatFormats.f16ToFloat((short) 0x0001));
    }
}
