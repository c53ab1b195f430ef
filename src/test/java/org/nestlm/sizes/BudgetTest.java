package org.nestlm.sizes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Budget texts: the spellings a user means, and nothing Java's number parser would also take. */
class BudgetTest {

    @Test
    void fractionsPercentagesAndCounts() {
        assertEquals(0.5, Budget.parse("0.5").fraction());
        assertEquals(0.5, Budget.parse(" 50% ").fraction());
        assertEquals(0.605, Budget.parse("60.5%").fraction(), 1e-12);
        assertEquals(1.0, Budget.parse("1").fraction());
        assertEquals(1.0, Budget.parse("1.0").fraction());
        assertEquals(0.5, Budget.parse(".5").fraction());
        assertEquals(3_000_000, Budget.parse("3M").absolute());
        assertEquals(1_200_000_000, Budget.parse("1.2B").absolute());
        assertEquals(750_000, Budget.parse("750k").absolute());
        assertEquals(123_456, Budget.parse("123456").absolute());
        assertEquals(2_000_000, Budget.parse("2e6").absolute());
    }

    @ParameterizedTest
    @ValueSource(strings = {"1d", "2f", "0x1p-1", "0x10", "NaN", "Infinity", "-0.5", "abc", "", "%", "M", "1e400", "5e400%",
            "1,5", "0.5.1", "--1"})
    void javaNumberSpellingsAreNotBudgets(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Budget.parse(text));
        assertTrue(e.getMessage().contains("budget '" + text + "'"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "0%", "150%", "1e-400", "0.0001K"})
    void fractionsOutsideTheModelAreRefused(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Budget.parse(text));
        assertTrue(e.getMessage().contains("budget '" + text + "'"), e.getMessage());
    }

    @Test
    void aFractionAboveOneSaysWhichPercentageItWouldBe() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Budget.parse("1.5"));
        assertTrue(e.getMessage().contains("150%") && e.getMessage().contains("at most 100%"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Budget.parse("2.25"));
        assertTrue(e.getMessage().contains("225%"), e.getMessage());
    }
}
