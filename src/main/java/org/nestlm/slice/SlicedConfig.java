package org.nestlm.slice;

import org.nestlm.sizes.Subnet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nestlm.model.Architecture;
import org.nestlm.model.ConfigJson;
import org.nestlm.model.LayerSpec;
import org.nestlm.model.ModelConfig;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code config.json} of a sliced checkpoint (docs/ELASTIC_FORMAT.md "Sliced checkpoints"). The global
 * fields are a stock Nemotron-H config of the cut-out model: {@code hidden_size} = d_e*, the pattern without the
 * dropped layers, and the sizes of the first layer of each kind. When the layers differ in size (per-layer MLP
 * widths, or a user configuration), {@code nestlm_layers} lists every layer's sizes, in the
 * {@code elastic.json} sub-model vocabulary; tensor shapes remain the truth and nestlm reads sizes from them.
 * {@code nestlm_slice} records where the checkpoint came from.
 */
public final class SlicedConfig {

    /** Per-layer sizes of a heterogeneous sliced checkpoint. */
    public static final String LAYERS_FIELD = "nestlm_layers";
    /** Provenance of a sliced checkpoint: the budget and the exact parameter count. */
    public static final String SLICE_FIELD = "nestlm_slice";

    private SlicedConfig() {
    }

    /** The config of {@code cut} (an architecture from {@code Subnet.architecture}), with provenance. */
    public static ModelConfig of(Architecture cut, String budget, String source) {
        ModelConfig c = cut.config();
        Map<String, JsonNode> extra = new LinkedHashMap<>(c.extra());
        extra.remove(LAYERS_FIELD);
        if (!cut.isHomogeneous()) {
            extra.put(LAYERS_FIELD, layers(cut));
        }
        ObjectNode p = ConfigJson.MAPPER.createObjectNode();
        p.put("budget", budget);
        p.put("parameters", cut.parameterCount());
        if (source != null) {
            p.put("source", source);
        }
        extra.put(SLICE_FIELD, p);
        ObjectNode json = ConfigJson.toJson(c);
        extra.forEach(json::set);
        return ConfigJson.fromJson(json);
    }

    /** {@code [{"type": "mamba", "heads": 8, "head_dim": 16}, {"type": "mlp", "width": 96}, …]}, one per layer. */
    static ArrayNode layers(Architecture cut) {
        ArrayNode a = ConfigJson.MAPPER.createArrayNode();
        for (LayerSpec s : cut.layers()) {
            ObjectNode l = a.addObject();
            switch (s) {
                case LayerSpec.Mamba m -> l.put("type", "mamba").put("heads", m.heads()).put("head_dim", m.headDim());
                case LayerSpec.Attention at -> l.put("type", "attention").put("heads", at.heads()).put("kv_heads", at.kvHeads())
                        .put("head_dim", at.headDim());
                case LayerSpec.Mlp f -> l.put("type", "mlp").put("width", f.width());
            }
        }
        return a;
    }
}
