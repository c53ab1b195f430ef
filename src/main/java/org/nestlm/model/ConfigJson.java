package org.nestlm.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nestlm.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Binds {@link ModelConfig} to Hugging Face {@code config.json}.
 *
 * <p>Reading accepts the attribute names the hub writes and the constructor aliases both HF versions
 * accept ({@code mamba_n_groups}, {@code mamba_d_conv}, {@code attention_head_dim}, …), and infinity in
 * {@code time_step_limit} as the bare literal {@code Infinity} (transformers 4 / Python json),
 * {@code {"__float__": "Infinity"}} (transformers 5), the string {@code "Infinity"}, or a large finite number.
 * Writing emits attribute names and the bare literal, as the hub files do, so Python's {@code json} reads
 * it back.
 */
public final class ConfigJson {

    public static final String FILE_NAME = "config.json";

    /** Lenient on input (bare Infinity / NaN), writes non-finite doubles as bare literals like Python. */
    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .disable(JsonWriteFeature.WRITE_NAN_AS_STRINGS)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    /** Keys bound to record components, with the aliases accepted on input (first name is written). */
    private static final List<List<String>> KNOWN_KEYS = List.of(
            List.of("architectures"), List.of("model_type"), List.of("vocab_size"), List.of("hidden_size"),
            List.of("num_hidden_layers"), List.of("hybrid_override_pattern"), List.of("layers_block_type"),
            List.of("intermediate_size"), List.of("mlp_hidden_act"), List.of("mlp_bias"),
            List.of("num_attention_heads"), List.of("num_key_value_heads"), List.of("head_dim", "attention_head_dim"),
            List.of("attention_bias"), List.of("attention_dropout"), List.of("hidden_dropout"),
            List.of("max_position_embeddings"), List.of("mamba_num_heads"), List.of("mamba_head_dim"),
            List.of("ssm_state_size", "mamba_d_state"), List.of("n_groups", "mamba_n_groups"),
            List.of("conv_kernel", "mamba_d_conv"), List.of("expand", "mamba_expand"),
            List.of("chunk_size", "mamba_chunk_size"), List.of("mamba_hidden_act"),
            List.of("use_conv_bias", "mamba_conv_bias"), List.of("use_bias"), List.of("mamba_proj_bias"),
            List.of("time_step_limit", "mamba_dt_limit"), List.of("time_step_min", "mamba_dt_min"),
            List.of("time_step_max", "mamba_dt_max"), List.of("time_step_floor", "mamba_dt_init_floor"),
            List.of("mamba_ssm_cache_dtype"), List.of("layer_norm_epsilon"), List.of("residual_in_fp32"),
            List.of("tie_word_embeddings"), List.of("rescale_prenorm_residual"), List.of("initializer_range"),
            List.of("use_cache"), List.of("pad_token_id"), List.of("bos_token_id"), List.of("eos_token_id"));

    private ConfigJson() {
    }

    /** Reads {@code dir/config.json} (or the file itself), validates it and names the file in every error. */
    public static ModelConfig read(Path dirOrFile) throws IOException {
        Path file = Files.isDirectory(dirOrFile) ? dirOrFile.resolve(FILE_NAME) : dirOrFile;
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            // a FIFO would block the read forever
            throw new IOException(file + ": is not a regular file (a directory, FIFO or device), so it cannot be a "
                    + FILE_NAME);
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(file.toFile());
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            throw new NoSuchFileException(file + ": no config.json (is this a Nemotron-H checkpoint directory?)");
        } catch (JsonProcessingException e) {
            throw new IOException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IOException(file + ": expected a JSON object");
        }
        try {
            return fromJson(root).validate(file.toString());
        } catch (IllegalArgumentException e) {
            String msg = e.getMessage();
            throw new IOException(msg.startsWith(file.toString()) ? msg : file + ": " + msg, e);
        }
    }

    /** Binds a parsed config object; defaults are those of the HF config classes (docs/ARCHITECTURE.md §2.1). */
    public static ModelConfig fromJson(JsonNode root) {
        Reader r = new Reader(root);
        String pattern = r.string("hybrid_override_pattern", null);
        if (pattern == null && root.has("layers_block_type")) {
            pattern = patternFromBlockTypes(root.get("layers_block_type"));
        }
        if (pattern == null) {
            throw new IllegalArgumentException("hybrid_override_pattern is missing");
        }
        int heads = r.integer("num_attention_heads", 32);
        double[] limit = r.limit();
        Map<String, JsonNode> extra = new LinkedHashMap<>();
        Set<String> known = new java.util.HashSet<>();
        KNOWN_KEYS.forEach(known::addAll);
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!known.contains(e.getKey())) {
                extra.put(e.getKey(), e.getValue());
            }
        }
        List<String> archs = new ArrayList<>();
        if (root.has("architectures") && root.get("architectures").isArray()) {
            root.get("architectures").forEach(n -> archs.add(n.asText()));
        } else {
            archs.add("NemotronHForCausalLM");
        }
        JsonNode kv = root.get("num_key_value_heads");
        return new ModelConfig(
                archs,
                r.string("model_type", ModelConfig.MODEL_TYPE),
                r.integer("vocab_size", 131072),
                r.integer("hidden_size", 4096),
                r.integer("num_hidden_layers", pattern.length()),
                pattern,
                r.integer("intermediate_size", 21504),
                r.string("mlp_hidden_act", "relu2"),
                r.bool("mlp_bias", false),
                heads,
                kv == null || kv.isNull() ? heads : r.integer("num_key_value_heads", heads),
                r.integer("head_dim", r.integer("attention_head_dim", 128)),
                r.bool("attention_bias", false),
                r.number("attention_dropout", 0.0),
                r.number("hidden_dropout", 0.0),
                r.integer("max_position_embeddings", 4096),
                r.integer("mamba_num_heads", 128),
                r.integer("mamba_head_dim", 64),
                r.integer("ssm_state_size", r.integer("mamba_d_state", 128)),
                r.integer("n_groups", r.integer("mamba_n_groups", 8)),
                r.integer("conv_kernel", r.integer("mamba_d_conv", 4)),
                r.integer("expand", r.integer("mamba_expand", 2)),
                r.integer("chunk_size", r.integer("mamba_chunk_size", 128)),
                r.string("mamba_hidden_act", "silu"),
                r.bool("use_conv_bias", r.bool("mamba_conv_bias", true)),
                r.bool("use_bias", false),
                r.bool("mamba_proj_bias", false),
                limit[0], limit[1],
                r.number("time_step_min", r.number("mamba_dt_min", 0.001)),
                r.number("time_step_max", r.number("mamba_dt_max", 0.1)),
                r.number("time_step_floor", r.number("mamba_dt_init_floor", 1e-4)),
                r.string("mamba_ssm_cache_dtype", "float32"),
                r.number("layer_norm_epsilon", 1e-5),
                r.bool("residual_in_fp32", false),
                r.bool("tie_word_embeddings", false),
                r.bool("rescale_prenorm_residual", true),
                r.number("initializer_range", 0.02),
                r.bool("use_cache", true),
                r.integer("pad_token_id", 0),
                r.integer("bos_token_id", 1),
                r.integer("eos_token_id", 2),
                extra);
    }

    /** The config as a JSON object with hub attribute names; unknown keys of the source come last, unchanged. */
    public static ObjectNode toJson(ModelConfig c) {
        ObjectNode o = MAPPER.createObjectNode();
        ArrayNode archs = o.putArray("architectures");
        c.architectures().forEach(archs::add);
        o.put("model_type", c.modelType());
        o.put("vocab_size", c.vocabSize());
        o.put("hidden_size", c.hiddenSize());
        o.put("num_hidden_layers", c.numHiddenLayers());
        o.put("hybrid_override_pattern", c.hybridOverridePattern());
        o.put("intermediate_size", c.intermediateSize());
        o.put("mlp_hidden_act", c.mlpHiddenAct());
        o.put("mlp_bias", c.mlpBias());
        o.put("num_attention_heads", c.numAttentionHeads());
        o.put("num_key_value_heads", c.numKeyValueHeads());
        o.put("head_dim", c.headDim());
        o.put("attention_bias", c.attentionBias());
        o.put("attention_dropout", c.attentionDropout());
        o.put("hidden_dropout", c.hiddenDropout());
        o.put("max_position_embeddings", c.maxPositionEmbeddings());
        o.put("mamba_num_heads", c.mambaNumHeads());
        o.put("mamba_head_dim", c.mambaHeadDim());
        o.put("ssm_state_size", c.ssmStateSize());
        o.put("n_groups", c.nGroups());
        o.put("conv_kernel", c.convKernel());
        o.put("expand", c.expand());
        o.put("chunk_size", c.chunkSize());
        o.put("mamba_hidden_act", c.mambaHiddenAct());
        o.put("use_conv_bias", c.useConvBias());
        o.put("use_bias", c.useBias());
        o.put("mamba_proj_bias", c.mambaProjBias());
        ArrayNode limit = o.putArray("time_step_limit");
        limit.add(c.timeStepLimitMin());
        limit.add(c.timeStepLimitMax());
        o.put("time_step_min", c.timeStepMin());
        o.put("time_step_max", c.timeStepMax());
        o.put("time_step_floor", c.timeStepFloor());
        o.put("mamba_ssm_cache_dtype", c.mambaSsmCacheDtype());
        o.put("layer_norm_epsilon", c.layerNormEpsilon());
        o.put("residual_in_fp32", c.residualInFp32());
        o.put("tie_word_embeddings", c.tieWordEmbeddings());
        o.put("rescale_prenorm_residual", c.rescalePrenormResidual());
        o.put("initializer_range", c.initializerRange());
        o.put("use_cache", c.useCache());
        o.put("pad_token_id", c.padTokenId());
        o.put("bos_token_id", c.bosTokenId());
        o.put("eos_token_id", c.eosTokenId());
        c.extra().forEach(o::set);
        return o;
    }

    public static String toJsonString(ModelConfig c) {
        try {
            return MAPPER.writeValueAsString(toJson(c)) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes {@code dir/config.json} atomically. */
    public static void write(Path dir, ModelConfig c) throws IOException {
        AtomicFiles.writeString(dir.resolve(FILE_NAME), toJsonString(c));
    }

    private static String patternFromBlockTypes(JsonNode types) {
        StringBuilder sb = new StringBuilder();
        for (JsonNode t : types) {
            sb.append(switch (t.asText()) {
                case "mamba", "linear_attention" -> 'M';
                case "attention", "full_attention" -> '*';
                case "mlp" -> '-';
                case "moe" -> 'E';
                default -> throw new IllegalArgumentException("layers_block_type has unknown type '" + t.asText() + "'");
            });
        }
        return sb.toString();
    }

    /** Typed access to one config object, with errors that name the field. */
    private record Reader(JsonNode root) {
        JsonNode node(String key) {
            JsonNode n = root.get(key);
            return n == null || n.isNull() ? null : n;
        }

        int integer(String key, int dflt) {
            JsonNode n = node(key);
            if (n == null) {
                return dflt;
            }
            if (!n.isIntegralNumber() && !(n.isNumber() && n.asDouble() == Math.rint(n.asDouble()))) {
                throw new IllegalArgumentException(key + " must be an integer, got " + n);
            }
            // JsonNode.asInt() wraps modulo 2^32 (4294967360 would read as 64); refuse instead
            if (n.isIntegralNumber() ? !n.canConvertToInt()
                    : !(n.asDouble() >= Integer.MIN_VALUE && n.asDouble() <= Integer.MAX_VALUE)) {
                throw new IllegalArgumentException(key + " is " + n + ", outside the range of a 32-bit integer");
            }
            return n.asInt();
        }

        double number(String key, double dflt) {
            JsonNode n = node(key);
            if (n == null) {
                return dflt;
            }
            return toDouble(key, n);
        }

        boolean bool(String key, boolean dflt) {
            JsonNode n = node(key);
            if (n == null) {
                return dflt;
            }
            if (!n.isBoolean()) {
                throw new IllegalArgumentException(key + " must be true or false, got " + n);
            }
            return n.asBoolean();
        }

        String string(String key, String dflt) {
            JsonNode n = node(key);
            if (n == null) {
                return dflt;
            }
            if (!n.isTextual()) {
                throw new IllegalArgumentException(key + " must be a string, got " + n);
            }
            return n.asText();
        }

        /** time_step_limit (or mamba_dt_limit): a pair [min, max]; default [0, +inf]. */
        double[] limit() {
            JsonNode n = node("time_step_limit");
            String key = "time_step_limit";
            if (n == null) {
                n = node("mamba_dt_limit");
                key = "mamba_dt_limit";
            }
            if (n == null) {
                return new double[] {0.0, Double.POSITIVE_INFINITY};
            }
            if (!n.isArray() || n.size() != 2) {
                throw new IllegalArgumentException(key + " must be a pair [min, max], got " + n);
            }
            return new double[] {toDouble(key + "[0]", n.get(0)), toDouble(key + "[1]", n.get(1))};
        }

        /** A number, or one of the spellings of infinity and NaN the ecosystem writes. */
        private static double toDouble(String key, JsonNode n) {
            if (n.isNumber()) {
                return n.asDouble();
            }
            if (n.isObject() && n.has("__float__")) {
                return parseSpecial(key, n.get("__float__").asText());
            }
            if (n.isTextual()) {
                return parseSpecial(key, n.asText());
            }
            throw new IllegalArgumentException(key + " must be a number, got " + n);
        }

        private static double parseSpecial(String key, String s) {
            return switch (s.trim()) {
                case "Infinity", "inf", "+inf", "+Infinity", "infinity" -> Double.POSITIVE_INFINITY;
                case "-Infinity", "-inf", "-infinity" -> Double.NEGATIVE_INFINITY;
                case "NaN", "nan" -> Double.NaN;
                default -> {
                    try {
                        yield Double.parseDouble(s);
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException(key + " must be a number, got \"" + s + "\"");
                    }
                }
            };
        }
    }

}
