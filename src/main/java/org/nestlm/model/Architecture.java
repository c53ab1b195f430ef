package org.nestlm.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * What a concrete model is made of: its config, residual width and the dimensions of every layer.
 * Homogeneous models follow from the config alone; sliced (heterogeneous) checkpoints are read from
 * tensor shapes, which are the truth (docs/ARCHITECTURE.md §3.6).
 *
 * <p>The parameter count is the exact formula of docs/ARCHITECTURE.md §5, generalised to the bias flags;
 * it equals the number of elements in {@link #tensorShapes()}.
 */
public record Architecture(ModelConfig config, int hiddenSize, List<LayerSpec> layers) {

    public Architecture {
        layers = List.copyOf(layers);
        if (layers.size() != config.hybridOverridePattern().length()) {
            throw new IllegalArgumentException(layers.size() + " layer specs for a pattern of "
                    + config.hybridOverridePattern().length() + " layers");
        }
        for (int i = 0; i < layers.size(); i++) {
            LayerKind expected = LayerKind.of(config.hybridOverridePattern().charAt(i));
            if (layers.get(i).kind() != expected) {
                throw new IllegalArgumentException("layer " + i + " is " + layers.get(i).kind() + " but the pattern says " + expected);
            }
            if (layers.get(i) instanceof LayerSpec.Mamba m && m.heads() % config.nGroups() != 0) {
                throw new IllegalArgumentException("layer " + i + ": " + m.heads() + " Mamba heads are not divisible by n_groups "
                        + config.nGroups());
            }
        }
    }

    /** The homogeneous model the config describes. */
    public static Architecture fromConfig(ModelConfig config) {
        List<LayerSpec> layers = new ArrayList<>();
        for (LayerKind k : config.layerKinds()) {
            layers.add(config.defaultLayer(k));
        }
        return new Architecture(config, config.hiddenSize(), layers);
    }

    /**
     * Reads every per-layer size from tensor shapes (names already canonical, see {@link WeightNames#canonical})
     * and checks that every expected tensor is present with the expected shape.
     *
     * @param source named in error messages (the checkpoint directory)
     * @throws IllegalArgumentException naming the tensor and the mismatch
     */
    public static Architecture fromShapes(ModelConfig config, Map<String, long[]> shapes, String source) {
        long[] emb = require(shapes, WeightNames.embeddings(), source);
        if (emb.length != 2) {
            throw new IllegalArgumentException(source + ": " + WeightNames.embeddings() + " must be 2-D, got " + Arrays.toString(emb));
        }
        if (emb[0] != config.vocabSize()) {
            throw new IllegalArgumentException(source + ": " + WeightNames.embeddings() + " has " + emb[0]
                    + " rows but vocab_size is " + config.vocabSize());
        }
        int hidden = Math.toIntExact(emb[1]);
        int gn = config.nGroups() * config.ssmStateSize();
        List<LayerSpec> layers = new ArrayList<>();
        List<LayerKind> kinds = config.layerKinds();
        for (int i = 0; i < kinds.size(); i++) {
            layers.add(switch (kinds.get(i)) {
                case MAMBA -> {
                    long nh = require(shapes, WeightNames.mixer(i, "A_log"), source)[0];
                    long conv = require(shapes, WeightNames.mixer(i, "conv1d.weight"), source)[0];
                    long inner = conv - 2L * gn;
                    if (nh <= 0 || inner <= 0 || inner % nh != 0) {
                        throw new IllegalArgumentException(source + ": layer " + i + ": conv1d has " + conv
                                + " channels, which with n_groups·ssm_state_size = " + gn + " leaves " + inner
                                + " inner channels, not a multiple of " + nh + " heads");
                    }
                    yield new LayerSpec.Mamba((int) nh, (int) (inner / nh));
                }
                case ATTENTION -> {
                    long q = require(shapes, WeightNames.mixer(i, "q_proj.weight"), source)[0];
                    long k = require(shapes, WeightNames.mixer(i, "k_proj.weight"), source)[0];
                    int hd = config.headDim();
                    if (q % hd != 0 || k % hd != 0) {
                        throw new IllegalArgumentException(source + ": layer " + i + ": q_proj rows " + q + " / k_proj rows " + k
                                + " are not multiples of head_dim " + hd);
                    }
                    yield new LayerSpec.Attention((int) (q / hd), (int) (k / hd), hd);
                }
                case MLP -> new LayerSpec.Mlp(Math.toIntExact(require(shapes, WeightNames.mixer(i, "up_proj.weight"), source)[0]));
                case MOE -> throw new IllegalArgumentException(source + ": layer " + i + " is a mixture-of-experts layer (unsupported)");
            });
        }
        Architecture arch;
        try {
            arch = new Architecture(config, hidden, layers);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
        for (Map.Entry<String, long[]> e : arch.tensorShapes().entrySet()) {
            long[] actual = require(shapes, e.getKey(), source);
            if (!Arrays.equals(actual, e.getValue())) {
                throw new IllegalArgumentException(source + ": tensor " + e.getKey() + " has shape " + Arrays.toString(actual)
                        + " but the architecture needs " + Arrays.toString(e.getValue()));
            }
        }
        return arch;
    }

    private static long[] require(Map<String, long[]> shapes, String name, String source) {
        long[] s = shapes.get(name);
        if (s == null) {
            throw new IllegalArgumentException(source + ": missing tensor '" + name + "'");
        }
        return s;
    }

    /** True when every layer has the config's global sizes and the hidden size matches. */
    public boolean isHomogeneous() {
        return this.equals(fromConfig(config));
    }

    /** Embeddings, final norm and (untied) lm_head: {@code 2·V·H + H}. */
    public long nonLayerParameterCount() {
        return nonLayerParameterCount(config, hiddenSize);
    }

    /** Embeddings, final norm and lm_head of a model of this config at residual width {@code hidden}. */
    public static long nonLayerParameterCount(ModelConfig config, long hidden) {
        long v = config.vocabSize();
        return v * hidden * (config.tieWordEmbeddings() ? 1 : 2) + hidden;
    }

    public long layerParameterCount(int layer) {
        return layers.get(layer).parameterCount(config, hiddenSize);
    }

    /** Exact number of parameters: equals the element count of {@link #tensorShapes()}. */
    public long parameterCount() {
        long p = nonLayerParameterCount();
        for (int i = 0; i < layers.size(); i++) {
            p += layerParameterCount(i);
        }
        return p;
    }

    /** Bytes of weights stored at {@code bytesPerElement} (4 for F32, 2 for BF16). */
    public long weightBytes(int bytesPerElement) {
        return parameterCount() * bytesPerElement;
    }

    public int countLayers(LayerKind kind) {
        return (int) layers.stream().filter(l -> l.kind() == kind).count();
    }

    /**
     * Every tensor of the model with its shape, in canonical HF names, in checkpoint order: the shapes of the
     * tensor table, {@link TensorLayout} (docs/ARCHITECTURE.md §3.2).
     */
    public Map<String, long[]> tensorShapes() {
        return TensorLayout.shapes(this);
    }
}
