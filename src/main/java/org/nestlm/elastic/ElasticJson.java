package org.nestlm.elastic;

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
import java.util.LinkedHashMap;
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
        for (JsonNode l : required(o, "layers", where)) {
            kept.add(required(l, "kept", where).asBoolean());
            String type = required(l, "type", where).asText();
            layers.add(switch (type) {
                case "mamba" -> new LayerSpec.Mamba(required(l, "heads", where).asInt(), required(l, "head_dim", where).asInt());
                case "attention" -> new LayerSpec.Attention(required(l, "heads", where).asInt(), required(l, "kv_heads", where).asInt(),
                        required(l, "head_dim", where).asInt());
                case "mlp" -> new LayerSpec.Mlp(required(l, "width", where).asInt());
                default -> throw new IllegalArgumentException(where + ": unknown layer type '" + type + "'");
            });
        }
        return new Subnet(required(o, "hidden_size", where).asInt(), layers, kept);
    }

    /** Reads and validates {@code dir/elastic.json} against the checkpoint's architecture. */
    public static Metadata read(Path dir, Architecture full) throws IOException {
        Path file = dir.resolve(FILE_NAME);
        if (!Files.isRegularFile(file)) {
            throw new java.nio.file.NoSuchFileException(file + ": not an elastic checkpoint (no elastic.json; run nestlm elastify)");
        }
        JsonNode o;
        try {
            o = ConfigJson.MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        String where = file.toString();
        try {
            if (!FORMAT.equals(o.path("format").asText()) || o.path("version").asInt() != VERSION) {
                throw new IllegalArgumentException(where + ": format/version is not " + FORMAT + " " + VERSION);
            }
            if (o.path("full_parameters").asLong() != full.parameterCount()) {
                throw new IllegalArgumentException(where + ": full_parameters " + o.path("full_parameters").asLong()
                        + " does not match the weights' " + full.parameterCount());
            }
            JsonNode s = required(o, "space", where);
            List<Integer> order = new ArrayList<>();
            required(s, "removal_order", where).forEach(n -> order.add(n.asInt()));
            JsonNode mf = required(s, "mlp_fractions", where);
            double[] mlp = new double[mf.size()];
            for (int i = 0; i < mlp.length; i++) {
                mlp[i] = mf.get(i).asDouble();
            }
            ElasticSpace space = new ElasticSpace(full, intArray(required(s, "hidden", where)), mlp,
                    intArray(required(s, "mamba_heads_per_group", where)), intArray(required(s, "attention_heads_per_group", where)),
                    intArray(required(s, "depth_removals", where)), order, required(s, "heterogeneous_mlp", where).asBoolean());
            JsonNode r = required(o, "router", where);
            List<String> rb = new ArrayList<>();
            required(r, "budgets", where).forEach(n -> rb.add(n.asText()));
            JsonNode rfn = required(r, "fractions", where);
            double[] rf = new double[rfn.size()];
            for (int i = 0; i < rf.length; i++) {
                rf[i] = rfn.get(i).asDouble();
            }
            Path routerFile = dir.resolve(required(r, "weights", where).asText());
            if (!Files.isRegularFile(routerFile)) {
                throw new IllegalArgumentException(where + ": router.weights names " + routerFile + ", which does not exist");
            }
            Map<String, float[]> weights = TensorStore.readFloats(routerFile);
            List<TrainedBudget> budgets = new ArrayList<>();
            for (JsonNode b : required(o, "budgets", where)) {
                Subnet sub = subnetFromJson(required(b, "subnet", where), where).validate(full);
                budgets.add(new TrainedBudget(required(b, "budget", where).asText(), required(b, "target", where).asLong(), sub,
                        sub.parameterCount(full.config()), required(b, "trained", where).asBoolean()));
            }
            return new Metadata(space, rb, rf, required(r, "width", where).asInt(), weights, budgets);
        } catch (IllegalArgumentException e) {
            String msg = e.getMessage();
            throw new IOException(msg.startsWith(where) ? msg : where + ": " + msg, e);
        }
    }

    private static JsonNode required(JsonNode o, String field, String where) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            throw new IllegalArgumentException(where + ": missing field '" + field + "'");
        }
        return n;
    }

    private static void ints(ArrayNode a, int[] v) {
        for (int x : v) {
            a.add(x);
        }
    }

    private static int[] intArray(JsonNode a) {
        int[] v = new int[a.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = a.get(i).asInt();
        }
        return v;
    }
}
