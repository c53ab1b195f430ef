package org.nestlm.model;

import java.util.Collection;

/**
 * Hugging Face tensor names of a Nemotron-H checkpoint (docs/ARCHITECTURE.md §3.2). nestlm writes the hub
 * prefix {@code backbone.}; it reads {@code backbone.}, {@code model.} (transformers' in-library class and
 * Puzzle checkpoints) and the very old {@code backbone.embedding.weight}.
 */
public final class WeightNames {

    public static final String HUB_PREFIX = "backbone.";
    public static final String LM_HEAD = "lm_head.weight";

    private WeightNames() {
    }

    public static String embeddings() {
        return HUB_PREFIX + "embeddings.weight";
    }

    public static String normF() {
        return HUB_PREFIX + "norm_f.weight";
    }

    /** {@code backbone.layers.{i}.norm.weight}: the one pre-mixer RMSNorm of layer i. */
    public static String layerNorm(int layer) {
        return layer(layer, "norm.weight");
    }

    /** {@code backbone.layers.{i}.mixer.{part}}, e.g. {@code mixer("in_proj.weight")}. */
    public static String mixer(int layer, String part) {
        return layer(layer, "mixer." + part);
    }

    /** {@code backbone.layers.{i}.{part}}: tensor {@code part} of layer i ({@code norm.weight}, {@code mixer.…}). */
    public static String layer(int layer, String part) {
        return HUB_PREFIX + "layers." + layer + "." + part;
    }

    /**
     * Maps a name as stored in a checkpoint to nestlm's canonical (hub) name, or returns it unchanged when it
     * is not a backbone tensor.
     */
    public static String canonical(String stored) {
        String s = stored;
        if (s.startsWith("model.")) {
            s = HUB_PREFIX + s.substring("model.".length());
        }
        if (s.equals(HUB_PREFIX + "embedding.weight")) {
            s = embeddings();
        }
        return s;
    }

    /** The prefix a checkpoint uses ({@code backbone.} or {@code model.}), judged by its names. */
    public static String detectPrefix(Collection<String> names) {
        for (String n : names) {
            if (n.startsWith(HUB_PREFIX)) {
                return HUB_PREFIX;
            }
            if (n.startsWith("model.")) {
                return "model.";
            }
        }
        return HUB_PREFIX;
    }
}
