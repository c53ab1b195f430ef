package org.nestlm.model;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** config.json binding: aliases, infinity spellings, round trip and validation (docs/ARCHITECTURE.md §2). */
class ConfigJsonTest {

    /** The shape of a transformers-4-era hub config.json, with the bare Infinity literal. */
    static final String HUB = """
            {
              "architectures": ["NemotronHForCausalLM"],
              "model_type": "nemotron_h",
              "vocab_size": 131072, "hidden_size": 5120, "num_hidden_layers": 62,
              "hybrid_override_pattern": "M-M-M-M*-M-M-M-M*-M-M-M-M*-M-M-M-M*-M-M-M-M*-M-M-M-M*-M-M-M-M-",
              "intermediate_size": 20480, "mlp_hidden_act": "relu2", "mlp_bias": false,
              "num_attention_heads": 40, "num_key_value_heads": 8, "head_dim": 128, "attention_bias": false,
              "mamba_num_heads": 128, "mamba_head_dim": 80, "ssm_state_size": 128, "n_groups": 8,
              "conv_kernel": 4, "expand": 2, "chunk_size": 128, "mamba_hidden_act": "silu",
              "use_conv_bias": true, "use_bias": false, "mamba_proj_bias": false,
              "time_step_limit": [0.0, Infinity], "time_step_min": 0.001, "time_step_max": 0.1,
              "time_step_floor": 0.0001, "layer_norm_epsilon": 1e-05, "residual_in_fp32": false,
              "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.48.3",
              "auto_map": {"AutoConfig": "configuration_nemotron_h.NemotronHConfig"}
            }
            """;

    static ModelConfig parse(String json) throws IOException {
        return ConfigJson.fromJson(ConfigJson.MAPPER.readTree(json)).validate("test");
    }

    @Test
    void readsHubConfigWithBareInfinity() throws IOException {
        ModelConfig c = parse(HUB);
        assertEquals(5120, c.hiddenSize());
        assertEquals(62, c.numHiddenLayers());
        assertEquals(Double.POSITIVE_INFINITY, c.timeStepLimitMax());
        assertFalse(c.clampsTimeStep());
        assertEquals("bfloat16", c.extra().get("torch_dtype").asText());
    }

    /** The published Nemotron-Nano-12B-v2 (= Elastic-12B parent) counts 12,310,001,152 parameters (±0.1 % asked). */
    @Test
    void nano12bParameterCountFromConfigAlone() throws IOException {
        long p = Architecture.fromConfig(parse(HUB)).parameterCount();
        assertEquals(12_310_001_152L, p);
        assertTrue(Math.abs(p / 12.31e9 - 1) < 0.001);
    }

    @Test
    void nano9bParameterCount() throws IOException {
        String nine = HUB.replace("\"hidden_size\": 5120", "\"hidden_size\": 4480")
                .replace("\"num_hidden_layers\": 62", "\"num_hidden_layers\": 56")
                .replace("M-M-M-M*-M-M-M-M*-M-M-M-M*-M-M-M-M*-M-M-M-M*-M-M-M-M*-M-M-M-M-",
                        "M-M-M-MM-M-M-M*-M-M-M*-M-M-M-M*-M-M-M-M*-M-MM-M-M-M-M-M-")
                .replace("\"intermediate_size\": 20480", "\"intermediate_size\": 15680");
        assertEquals(8_888_227_328L, Architecture.fromConfig(parse(nine)).parameterCount());
    }

    @ParameterizedTest
    @ValueSource(strings = {"Infinity", "{\"__float__\": \"Infinity\"}", "\"Infinity\"", "1e30"})
    void acceptsEveryInfinitySpelling(String spelling) throws IOException {
        ModelConfig c = parse(HUB.replace("[0.0, Infinity]", "[0.0, " + spelling + "]"));
        assertTrue(c.timeStepLimitMax() >= 1e30);
    }

    @Test
    void acceptsConstructorAliases() throws IOException {
        // non-default values, so that an ignored alias would show up as the default
        String aliased = HUB.replace("\"head_dim\": 128", "\"attention_head_dim\": 96")
                .replace("\"n_groups\": 8", "\"mamba_n_groups\": 4")
                .replace("\"conv_kernel\": 4", "\"mamba_d_conv\": 3")
                .replace("\"chunk_size\": 128", "\"mamba_chunk_size\": 32")
                .replace("\"ssm_state_size\": 128", "\"mamba_d_state\": 64")
                .replace("\"use_conv_bias\": true", "\"mamba_conv_bias\": false")
                .replace("\"time_step_limit\": [0.0, Infinity]", "\"mamba_dt_limit\": [0.001, 0.5]");
        ModelConfig c = parse(aliased);
        assertEquals(96, c.headDim());
        assertEquals(4, c.nGroups());
        assertEquals(3, c.convKernel());
        assertEquals(32, c.chunkSize());
        assertEquals(64, c.ssmStateSize());
        assertFalse(c.useConvBias());
        assertEquals(0.001, c.timeStepLimitMin());
        assertEquals(0.5, c.timeStepLimitMax());
        assertTrue(c.clampsTimeStep());
    }

    @Test
    void roundTripKeepsEveryFieldAndWritesBareInfinity(@TempDir Path dir) throws IOException {
        ModelConfig c = parse(HUB);
        ConfigJson.write(dir, c);
        String text = Files.readString(dir.resolve("config.json"));
        assertTrue(text.contains("Infinity") && !text.contains("\"Infinity\""), "bare Infinity as Python's json writes it");
        assertTrue(text.contains("\"head_dim\""), "attribute names, not aliases");
        ModelConfig back = ConfigJson.read(dir);
        assertEquals(c, back);
        JsonNode extra = back.extra().get("auto_map");
        assertEquals("configuration_nemotron_h.NemotronHConfig", extra.get("AutoConfig").asText());
    }

    @Test
    void rejectsPatternLengthMismatch(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("config.json"), HUB.replace("\"num_hidden_layers\": 62", "\"num_hidden_layers\": 61"));
        IOException e = assertThrows(IOException.class, () -> ConfigJson.read(dir));
        assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("num_hidden_layers is 61"), e.getMessage());
    }

    @Test
    void rejectsHeadsNotDivisibleByGroups() {
        Exception e = assertThrows(IllegalArgumentException.class,
                () -> parse(HUB.replace("\"mamba_num_heads\": 128", "\"mamba_num_heads\": 100")));
        assertTrue(e.getMessage().contains("mamba_num_heads 100 is not divisible by n_groups 8"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> parse(HUB.replace("\"num_key_value_heads\": 8", "\"num_key_value_heads\": 7")));
        assertTrue(e.getMessage().contains("num_key_value_heads"), e.getMessage());
    }

    @Test
    void rejectsUnknownLayerTypesAndMoe() {
        Exception e = assertThrows(IllegalArgumentException.class, () -> parse(HUB.replace("M-M-M-M*", "M-M-X-M*")));
        assertTrue(e.getMessage().contains("unknown layer type 'X' at layer 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> parse(HUB.replace("M-M-M-M*", "M-M-E-M*")));
        assertTrue(e.getMessage().contains("mixture-of-experts"), e.getMessage());
    }

    @Test
    void rejectsWrongTypesNamingTheField() {
        Exception e = assertThrows(IllegalArgumentException.class,
                () -> parse(HUB.replace("\"hidden_size\": 5120", "\"hidden_size\": \"big\"")));
        assertTrue(e.getMessage().contains("hidden_size"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> parse(HUB.replace("[0.0, Infinity]", "[0.0]")));
        assertTrue(e.getMessage().contains("time_step_limit"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"hidden_size\": 4294967360", "\"num_hidden_layers\": 4294967358",
            "\"num_attention_heads\": 4294967336", "\"vocab_size\": 2147483648", "\"vocab_size\": 4.29496736E9",
            "\"mamba_num_heads\": -4294967168"})
    void rejectsIntegersOutsideInt32InsteadOfWrapping(String field) {
        String key = field.substring(1, field.indexOf('"', 1));
        String json = HUB.replaceFirst("\"" + key + "\": [^,]+", java.util.regex.Matcher.quoteReplacement(field));
        Exception e = assertThrows(IllegalArgumentException.class, () -> parse(json));
        assertTrue(e.getMessage().contains(key) && e.getMessage().contains("32-bit"), e.getMessage());
    }

    @Test
    void rejectsSizesWhoseChannelCountsOverflow() {
        Exception e = assertThrows(IllegalArgumentException.class,
                () -> parse(HUB.replace("\"ssm_state_size\": 128", "\"ssm_state_size\": 1e9")));
        assertTrue(e.getMessage().contains("n_groups · ssm_state_size = 8000000000"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> parse(HUB.replace("\"mamba_head_dim\": 80", "\"mamba_head_dim\": 1073741824")));
        assertTrue(e.getMessage().contains("mamba_num_heads · mamba_head_dim"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1})
    void rejectsANonPositiveContextLimit(int limit) {
        Exception e = assertThrows(IllegalArgumentException.class,
                () -> parse(HUB.replace("\"head_dim\": 128,", "\"head_dim\": 128, \"max_position_embeddings\": " + limit + ",")));
        assertTrue(e.getMessage().contains("max_position_embeddings must be positive, got " + limit), e.getMessage());
    }

    @Test
    void rejectsInvalidJsonNamingTheFile(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("config.json"), "{ \"hidden_size\": ");
        IOException e = assertThrows(IOException.class, () -> ConfigJson.read(dir));
        assertTrue(e.getMessage().contains(dir.resolve("config.json").toString()), e.getMessage());
        IOException missing = assertThrows(IOException.class, () -> ConfigJson.read(dir.resolve("nowhere")));
        assertTrue(missing.getMessage().contains("config.json"), missing.getMessage());
    }

    @Test
    void presetsHaveTheBenchmarkSizesAndAllLayerTypes() {
        assertEquals(204_824L, Architecture.fromConfig(Presets.get("tiny")).parameterCount());
        assertEquals(7_208_440L, Architecture.fromConfig(Presets.get("small")).parameterCount());
        for (String name : Presets.names()) {
            String p = Presets.get(name).hybridOverridePattern();
            assertTrue(p.contains("M") && p.contains("*") && p.contains("-"), name);
        }
        assertThrows(IllegalArgumentException.class, () -> Presets.get("huge"));
    }
}
