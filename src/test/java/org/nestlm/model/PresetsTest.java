package org.nestlm.model;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The named sizes and the named-field copy they are built with. */
class PresetsTest {

    @Test
    void presetsHaveTheirDocumentedParameterCounts() {
        // The counts the CLI help, the README and the benchmark comparison quote.
        assertEquals(204_824, Architecture.fromConfig(Presets.get("tiny")).parameterCount());
        assertEquals(2_393_464, Architecture.fromConfig(Presets.get("mini")).parameterCount());
        assertEquals(7_208_440, Architecture.fromConfig(Presets.get("small")).parameterCount());
    }

    @Test
    void everyPresetIsValidAndSurvivesConfigJson() {
        for (String name : Presets.names()) {
            ModelConfig c = Presets.get(name).validate("preset " + name);
            assertEquals(c, ConfigJson.fromJson(ConfigJson.toJson(c)), name);
        }
    }

    @Test
    void resizedChangesOnlyWhatItSets() {
        ModelConfig c = Presets.get("mini");
        ModelConfig r = c.resized().vocabSize(8192).hybridOverridePattern("M*-").build();
        assertEquals(8192, r.vocabSize());
        assertEquals(3, r.numHiddenLayers(), "the layer count follows the pattern");
        ModelConfig back = r.resized().vocabSize(c.vocabSize()).hybridOverridePattern(c.hybridOverridePattern()).build();
        assertEquals(c, back, "every other component is kept");
        assertEquals(c, c.resized().build());
    }

    @Test
    void anUnknownPresetNamesTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Presets.get("huge"));
        assertTrue(e.getMessage().contains("tiny, mini, small"), e.getMessage());
    }
}
