package org.nestlm.sizes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nestlm.io.AtomicFiles;
import org.nestlm.io.DType;
import org.nestlm.io.SafetensorsWriter;
import org.nestlm.io.TensorData;
import org.nestlm.io.TensorStore;
import org.nestlm.model.Architecture;
import org.nestlm.model.ConfigJson;
import org.nestlm.model.LayerSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code elastic.json}: what makes a Nemotron-H checkpoint elastic (docs/ELASTIC_FORMAT.md). The weights
 * next to it are already permuted into importance order, so every nested sub-model is a prefix; this file
 * holds the candidate sets, the depth removal order, the router weights and, per trained budget, the
 * resolved sub-model.
 */
public final class ElasticJson {

    public static final String FILE_NAME = "elastic.json";
    public static final String FORMAT = "nestlm-elastic";
    public static final int VERSION = 1;
    /** Router weights (flattened, F32) beside elastic.json. */
    public static final String ROUTER_FILE = "router.safetensors";

    private ElasticJson() {
    }

    /** Everything in elastic.json. */
    public record Metadata(ElasticSpace space, List<String> routerBudgets, double[] routerFractions, int routerWidth,
                           Map<String, float[]> routerWeights, List<TrainedBudget> budgets) {
    }

    public static void write(Path dir, Metadata m) throws IOException {
        ObjectNode o = ConfigJson.MAPPER.createObjectNode();
        o.put("format", FORMAT);
        o.put("version", VERSION);
        o.put("full_parameters", m.space().full().parameterCount());
        ObjectNode s = o.putObject("space");
        ElasticSpace sp = m.space();
        ints(s.putArray("hidden"), sp.hidden());
        ArrayNode mlp = s.putArray("mlp_fractions");
        for (double f : sp.mlpFractions()) {
            mlp.add(f);
        }
        ints(s.putArray("mamba_heads_per_group"), sp.mambaHeadsPerGroup());
        ints(s.putArray("attention_heads_per_group"), sp.attentionHeadsPerGroup());
        ints(s.putArray("depth_removals"), sp.depthRemovals());
        ints(s.putArray("removal_order"), sp.removalOrder().stream().mapToInt(Integer::intValue).toArray());
        s.put("heterogeneous_mlp", sp.heterogeneousMlp());
        ObjectNode r = o.putObject("router");
        r.put("width", m.routerWidth());
        ArrayNode rb = r.putArray("budgets");
        m.routerBudgets().forEach(rb::add);
        ArrayNode rf = r.putArray("fractions");
        for (double f : m.routerFractions()) {
            rf.add(f);
        }
        r.put("weights", ROUTER_FILE);
        ArrayNode bs = o.putArray("budgets");
        for (TrainedBudget b : m.budgets()) {
            ObjectNode bo = bs.addObject();
            bo.put("budget", b.budget());
            bo.put("target", b.target());
            bo.put("parameters", b.parameters());
            bo.put("trained", b.trained());
            bo.set("subnet", subnetJson(b.subnet()));
        }
        Files.createDirectories(dir);
        // router weights are binary and exact in their own file; elastic.json stays readable
        List<TensorData> router = new ArrayList<>();
        m.routerWeights().forEach((k, v) -> router.add(new TensorData(k, new long[] {v.length}, v)));
        SafetensorsWriter.write(dir.resolve(ROUTER_FILE), router, DType.F32, Map.of("format", FORMAT));
        AtomicFiles.writeString(dir.resolve(FILE_NAME), ConfigJson.MAPPER.writeValueAsString(o) + "\n");
    }

    /** A sub-model as JSON: hidden size and per full-model layer its sizes and whether it is kept. */
    public static ObjectNode subnetJson(Subnet s) {
        ObjectNode o = ConfigJson.MAPPER.createObjectNode();
        o.put("hidden_size", s.hiddenSize());
        ArrayNode layers = o.putArray("layers");
        for (int i = 0; i < s.layers().size(); i++) {
            ObjectNode l = layers.addObject();
            l.put("kept", s.kept().get(i));
            switch (s.layers().get(i)) {
                case LayerSpec.Mamba m -> l.put("type", "mamba").put("heads", m.heads()).put("head_dim", m.headDim());
                case LayerSpec.Attention a -> l.put("type", "attention").put("heads", a.heads()).put("kv_heads", a.kvHeads())
                        .put("head_dim", a.headDim());
                case LayerSpec.Mlp f -> l.put("type", "mlp").put("width", f.width());
            }
        }
        return o;
    }

    public static Subnet subnetFromJson(JsonNode o, String where) {
        List<LayerSpec> layers = new ArrayList<>();
        List<Boolean> kept = new ArrayList<>();
        for (JsonNode l : array(o, "layers", where)) {
            kept.add(bool(l, "kept", where));
            String type = text(l, "type", where);
            layers.add(switch (type) {
                case "mamba" -> new LayerSpec.Mamba(integer(l, "heads", where), integer(l, "head_dim", where));
                case "attention" -> new LayerSpec.Attention(integer(l, "heads", where), integer(l, "kv_heads", where),
                        integer(l, "head_dim", where));
                case "mlp" -> new LayerSpec.Mlp(integer(l, "width", where));
                default -> throw new IllegalArgumentException(where + ": unknown layer type '" + type + "'");
            });
        }
        return new Subnet(integer(o, "hidden_size", where), layers, kept);
    }

    /**
     * Reads and validates {@code dir/elastic.json} against the checkpoint's architecture: every field of the
     * right type and in range (candidates within the full model, the removal order a set of its layers, router
     * fractions the budgets' own fractions, largest first, finite router weights), and at least one budget whose
     * target is what its name asks of this model. Errors name the file and the field.
     */
    public static Metadata read(Path dir, Architecture full) throws IOException {
        Path file = dir.resolve(FILE_NAME);
        if (!Files.isRegularFile(file)) {
            throw new java.nio.file.NoSuchFileException(file + ": not an elastic checkpoint (no elastic.json; run nestlm elastify)");
        }
        JsonNode o;
        try {
            o = ConfigJson.MAPPER.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        String where = file.toString();
        try {
            if (o == null || !o.isObject()) {
                throw new IllegalArgumentException(where + ": expected a JSON object");
            }
            if (!FORMAT.equals(o.path("format").asText()) || !o.path("version").isIntegralNumber()
                    || o.path("version").asInt() != VERSION) {
                throw new IllegalArgumentException(where + ": format/version is not " + FORMAT + " " + VERSION);
            }
            long fullParams = full.parameterCount();
            JsonNode fp = o.path("full_parameters");
            if (!fp.isIntegralNumber() || !fp.canConvertToLong() || fp.asLong() != fullParams) {
                throw new IllegalArgumentException(where + ": full_parameters " + fp + " does not match the weights' "
                        + fullParams);
            }
            ElasticSpace space = space(required(o, "space", where), full, where);

            JsonNode r = required(o, "router", where);
            int width = integer(r, "width", where);
            if (width < 1) {
                throw new IllegalArgumentException(where + ": router.width must be at least 1, got " + width);
            }
            List<String> rb = new ArrayList<>();
            for (JsonNode n : array(r, "budgets", where)) {
                if (!n.isTextual()) {
                    throw new IllegalArgumentException(where + ": router.budgets holds " + n + ", not a budget name");
                }
                rb.add(n.textValue());
            }
            if (rb.isEmpty()) {
                throw new IllegalArgumentException(where + ": router.budgets is empty");
            }
            double[] rf = doubles(array(r, "fractions", where), "router.fractions", where);
            if (rf.length != rb.size()) {
                throw new IllegalArgumentException(where + ": router.fractions has " + rf.length + " values for "
                        + rb.size() + " router.budgets");
            }
            for (int i = 0; i < rf.length; i++) {
                if (!(rf[i] > 0 && rf[i] <= 1)) {
                    throw new IllegalArgumentException(where + ": router.fractions[" + i + "] = " + rf[i]
                            + " is outside (0, 1]");
                }
                if (i > 0 && rf[i] > rf[i - 1]) {
                    throw new IllegalArgumentException(where + ": router.fractions must be largest first, got "
                            + rf[i - 1] + " before " + rf[i]);
                }
            }
            for (int i = 0; i < rf.length; i++) {
                // the budget's fraction, exact or from its rounded parameter target: within one parameter
                long expected = target(rb.get(i), fullParams, "router.budgets[" + i + "]", where);
                if (Math.abs(rf[i] * fullParams - expected) > 1) {
                    throw new IllegalArgumentException(where + ": router.fractions[" + i + "] = " + rf[i]
                            + " is not the fraction " + (double) expected / fullParams + " that budget '" + rb.get(i)
                            + "' asks of this model");
                }
            }
            Path routerFile = dir.resolve(text(r, "weights", where));
            if (!Files.isRegularFile(routerFile)) {
                throw new IllegalArgumentException(where + ": router.weights names " + routerFile + ", which does not exist");
            }
            Map<String, float[]> weights = TensorStore.readFloats(routerFile);
            for (Map.Entry<String, float[]> e : weights.entrySet()) {
                float[] v = e.getValue();
                for (int i = 0; i < v.length; i++) {
                    if (!Float.isFinite(v[i])) {
                        throw new IOException(routerFile + ": tensor '" + e.getKey() + "' holds " + v[i] + " at element "
                                + i + " (router weights must be finite)");
                    }
                }
            }

            List<TrainedBudget> budgets = new ArrayList<>();
            JsonNode bs = array(o, "budgets", where);
            for (int i = 0; i < bs.size(); i++) {
                JsonNode b = bs.get(i);
                String at = where + ": budgets[" + i + "]";
                String name = text(b, "budget", at);
                long expected = target(name, fullParams, "budgets[" + i + "].budget", where);
                JsonNode t = required(b, "target", at);
                if (!t.isIntegralNumber() || !t.canConvertToLong() || t.asLong() != expected) {
                    throw new IllegalArgumentException(at + ": target " + t + " is not the " + expected
                            + " parameters that budget '" + name + "' asks of this model");
                }
                Subnet sub;
                try {
                    sub = subnetFromJson(required(b, "subnet", at), at).validate(full);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(e.getMessage().startsWith(at) ? e.getMessage()
                            : at + ".subnet: " + e.getMessage(), e);
                }
                budgets.add(new TrainedBudget(name, expected, sub, sub.parameterCount(full.config()), bool(b, "trained", at)));
            }
            if (budgets.isEmpty()) {
                throw new IllegalArgumentException(where + ": budgets is empty (an elastic checkpoint holds at least one"
                        + " trained budget)");
            }
            return new Metadata(space, rb, rf, width, weights, budgets);
        } catch (IllegalArgumentException e) {
            String msg = e.getMessage();
            throw new IOException(msg.startsWith(where) ? msg : where + ": " + msg, e);
        }
    }

    /** The candidate sets, each value within the full model (the router indexes the permuted weights by them). */
    private static ElasticSpace space(JsonNode s, Architecture full, String where) {
        int layers = full.layers().size();
        int[] hidden = intArray(array(s, "hidden", where), "space.hidden", where);
        for (int h : hidden) {
            inRange(h, 1, full.hiddenSize(), "space.hidden", where);
        }
        double[] mlp = doubles(array(s, "mlp_fractions", where), "space.mlp_fractions", where);
        for (double f : mlp) {
            if (!(f > 0 && f <= 1)) {
                throw new IllegalArgumentException(where + ": space.mlp_fractions holds " + f + ", outside (0, 1]");
            }
        }
        int[] mamba = intArray(array(s, "mamba_heads_per_group", where), "space.mamba_heads_per_group", where);
        for (int k : mamba) {
            inRange(k, 1, Math.max(1, ElasticSpace.maxMambaHeads(full) / full.config().nGroups()),
                    "space.mamba_heads_per_group", where);
        }
        int[] attention = intArray(array(s, "attention_heads_per_group", where), "space.attention_heads_per_group", where);
        for (int k : attention) {
            inRange(k, 1, ElasticSpace.maxAttentionHeadsPerGroup(full), "space.attention_heads_per_group", where);
        }
        int[] orderArray = intArray(array(s, "removal_order", where), "space.removal_order", where);
        List<Integer> order = new ArrayList<>();
        for (int l : orderArray) {
            inRange(l, 0, layers - 1, "space.removal_order", where);
            if (order.contains(l)) {
                throw new IllegalArgumentException(where + ": space.removal_order holds layer " + l + " twice");
            }
            order.add(l);
        }
        int[] depth = intArray(array(s, "depth_removals", where), "space.depth_removals", where);
        for (int d : depth) {
            inRange(d, 0, order.size(), "space.depth_removals", where);
        }
        return new ElasticSpace(full, hidden, mlp, mamba, attention, depth, order, bool(s, "heterogeneous_mlp", where));
    }

    /** The parameter target of a stored budget name for this model. */
    private static long target(String name, long fullParams, String field, String where) {
        try {
            return Budget.parse(name).target(fullParams);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + field + ": " + e.getMessage(), e);
        }
    }

    private static void inRange(int v, int lo, int hi, String field, String where) {
        if (v < lo || v > hi) {
            throw new IllegalArgumentException(where + ": " + field + " holds " + v + ", outside " + lo + ".." + hi);
        }
    }

    private static JsonNode required(JsonNode o, String field, String where) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            throw new IllegalArgumentException(where + ": missing field '" + field + "'");
        }
        return n;
    }

    private static JsonNode array(JsonNode o, String field, String where) {
        JsonNode n = required(o, field, where);
        if (!n.isArray()) {
            throw new IllegalArgumentException(where + ": field '" + field + "' must be an array, got " + n);
        }
        return n;
    }

    private static int integer(JsonNode o, String field, String where) {
        JsonNode n = required(o, field, where);
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw new IllegalArgumentException(where + ": field '" + field + "' must be a 32-bit integer, got " + n);
        }
        return n.intValue();
    }

    private static boolean bool(JsonNode o, String field, String where) {
        JsonNode n = required(o, field, where);
        if (!n.isBoolean()) {
            throw new IllegalArgumentException(where + ": field '" + field + "' must be true or false, got " + n);
        }
        return n.booleanValue();
    }

    private static String text(JsonNode o, String field, String where) {
        JsonNode n = required(o, field, where);
        if (!n.isTextual()) {
            throw new IllegalArgumentException(where + ": field '" + field + "' must be a string, got " + n);
        }
        return n.textValue();
    }

    private static void ints(ArrayNode a, int[] v) {
        for (int x : v) {
            a.add(x);
        }
    }

    private static int[] intArray(JsonNode a, String field, String where) {
        int[] v = new int[a.size()];
        for (int i = 0; i < v.length; i++) {
            JsonNode n = a.get(i);
            if (!n.isIntegralNumber() || !n.canConvertToInt()) {
                throw new IllegalArgumentException(where + ": " + field + "[" + i + "] must be a 32-bit integer, got " + n);
            }
            v[i] = n.intValue();
        }
        return v;
    }

    private static double[] doubles(JsonNode a, String field, String where) {
        double[] v = new double[a.size()];
        for (int i = 0; i < v.length; i++) {
            JsonNode n = a.get(i);
            if (!n.isNumber() || !Double.isFinite(n.asDouble())) {
                throw new IllegalArgumentException(where + ": " + field + "[" + i + "] must be a finite number, got " + n);
            }
            v[i] = n.asDouble();
        }
        return v;
    }
}
