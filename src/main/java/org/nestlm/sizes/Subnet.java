package org.nestlm.sizes;

import org.nestlm.model.Architecture;
import org.nestlm.model.LayerKind;
import org.nestlm.model.LayerSpec;
import org.nestlm.model.ModelConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * Which part of the full model a nested sub-model uses (docs/METHOD.md §4.1). After the importance
 * permutation every sub-model is a prefix on every axis, so the index sets follow from the counts alone:
 * the first {@code hiddenSize} residual channels; per layer the first MLP neurons, the first {@code k} Mamba
 * heads of every group and the first {@code m_d} channels of every head, the first {@code k} query heads
 * of every KV group; and which layers are kept.
 *
 * <p>Layer {@code i} of {@link #layers()} describes full-model layer {@code i}, in {@link LayerSpec} terms
 * (total heads, not per group); dropped layers keep their spec but are absent from the sub-model.
 *
 * @param hiddenSize d_e*, the residual width
 * @param layers     per full-model layer, its kept size
 * @param kept       per full-model layer, whether it is kept (a dropped layer is the identity)
 */
public record Subnet(int hiddenSize, List<LayerSpec> layers, List<Boolean> kept) {

    public Subnet {
        layers = List.copyOf(layers);
        kept = List.copyOf(kept);
        if (layers.size() != kept.size()) {
            throw new IllegalArgumentException("layers and kept flags differ in length");
        }
    }

    /**
     * The size of the first kept layer of {@code kind}: MLP width, Mamba heads or query heads; "-" if none is kept
     * (with homogeneous choices every kept layer of a kind has this size).
     */
    public String firstSize(LayerKind kind) {
        for (int i = 0; i < layers.size(); i++) {
            if (kept.get(i) && layers.get(i).kind() == kind) {
                return switch (layers.get(i)) {
                    case LayerSpec.Mlp f -> Integer.toString(f.width());
                    case LayerSpec.Mamba m -> Integer.toString(m.heads());
                    case LayerSpec.Attention at -> Integer.toString(at.heads());
                };
            }
        }
        return "-";
    }

    /** One line for logs: residual width, first MLP width, first Mamba head count, kept layers. */
    public String describe() {
        return "hidden " + hiddenSize + ", MLP " + firstSize(LayerKind.MLP) + ", Mamba heads " + firstSize(LayerKind.MAMBA)
                + ", " + kept.stream().filter(k -> k).count() + " layers";
    }

    /** The full model as a sub-model of itself. */
    public static Subnet full(Architecture arch) {
        return new Subnet(arch.hiddenSize(), arch.layers(), java.util.Collections.nCopies(arch.layers().size(), true));
    }

    /**
     * Checks that this sub-model fits inside {@code full}: every size positive and at most the full size,
     * Mamba heads a multiple of the groups, query heads a multiple of the KV heads (which are never cut),
     * head dims of attention unchanged, the same layer kinds.
     */
    public Subnet validate(Architecture full) {
        ModelConfig c = full.config();
        if (layers.size() != full.layers().size()) {
            throw new IllegalArgumentException("sub-model has " + layers.size() + " layers, the model " + full.layers().size());
        }
        if (hiddenSize < 1 || hiddenSize > full.hiddenSize()) {
            throw new IllegalArgumentException("hidden size " + hiddenSize + " outside 1.." + full.hiddenSize());
        }
        for (int i = 0; i < layers.size(); i++) {
            LayerSpec s = layers.get(i), f = full.layers().get(i);
            String at = "layer " + i + ": ";
            switch (f) {
                case LayerSpec.Mamba fm -> {
                    if (!(s instanceof LayerSpec.Mamba sm)) {
                        throw new IllegalArgumentException(at + "expected a Mamba layer");
                    }
                    if (sm.heads() > fm.heads() || sm.heads() % c.nGroups() != 0 || sm.headDim() > fm.headDim()) {
                        throw new IllegalArgumentException(at + sm.heads() + " x " + sm.headDim() + " Mamba heads do not fit "
                                + fm.heads() + " x " + fm.headDim() + " in " + c.nGroups() + " groups");
                    }
                }
                case LayerSpec.Attention fa -> {
                    if (!(s instanceof LayerSpec.Attention sa)) {
                        throw new IllegalArgumentException(at + "expected an attention layer");
                    }
                    if (sa.heads() > fa.heads() || sa.kvHeads() != fa.kvHeads() || sa.headDim() != fa.headDim()) {
                        throw new IllegalArgumentException(at + sa.heads() + " query heads do not fit " + fa.heads()
                                + " (KV heads and head_dim are never cut)");
                    }
                }
                case LayerSpec.Mlp ff -> {
                    if (!(s instanceof LayerSpec.Mlp sf) || sf.width() > ff.width()) {
                        throw new IllegalArgumentException(at + "MLP width does not fit " + ff.width());
                    }
                }
            }
        }
        if (!kept.contains(true)) {
            throw new IllegalArgumentException("a sub-model must keep at least one layer");
        }
        return this;
    }

    /** The cut-out model: kept layers only, in order, with this sub-model's sizes. */
    public Architecture architecture(ModelConfig fullConfig) {
        StringBuilder pattern = new StringBuilder();
        List<LayerSpec> keptSpecs = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            if (kept.get(i)) {
                pattern.append(layers.get(i).kind().symbol());
                keptSpecs.add(layers.get(i));
            }
        }
        LayerSpec.Mamba m = first(keptSpecs, LayerSpec.Mamba.class);
        LayerSpec.Attention a = first(keptSpecs, LayerSpec.Attention.class);
        LayerSpec.Mlp f = first(keptSpecs, LayerSpec.Mlp.class);
        // The global sizes are those of the first kept layer of each kind; per-layer sizes come from the shapes.
        ModelConfig.Resized r = fullConfig.resized().hiddenSize(hiddenSize).hybridOverridePattern(pattern.toString());
        if (f != null) {
            r.intermediateSize(f.width());
        }
        if (a != null) {
            r.numAttentionHeads(a.heads());
        }
        if (m != null) {
            r.mambaNumHeads(m.heads()).mambaHeadDim(m.headDim());
        }
        ModelConfig sliced = r.build();
        return new Architecture(sliced, hiddenSize, keptSpecs);
    }

    private static <T extends LayerSpec> T first(List<LayerSpec> specs, Class<T> type) {
        return specs.stream().filter(type::isInstance).map(type::cast).findFirst().orElse(null);
    }

    /** Exact parameter count of the cut-out model (docs/ARCHITECTURE.md §5). */
    public long parameterCount(ModelConfig fullConfig) {
        return architecture(fullConfig).parameterCount();
    }

    /** Index of the kept query heads: the first {@code sub/kv} of every KV group. */
    public static int[] attentionHeads(LayerSpec.Attention full, LayerSpec.Attention sub) {
        int perGroupFull = full.groupSize(), perGroup = sub.heads() / full.kvHeads();
        int[] idx = new int[sub.heads()];
        int n = 0;
        for (int g = 0; g < full.kvHeads(); g++) {
            for (int j = 0; j < perGroup; j++) {
                idx[n++] = g * perGroupFull + j;
            }
        }
        return idx;
    }

    /** Index of the kept Mamba heads: the first {@code k} of every one of the G groups. */
    public static int[] mambaHeads(LayerSpec.Mamba full, LayerSpec.Mamba sub, int groups) {
        int perGroupFull = full.heads() / groups, perGroup = sub.heads() / groups;
        int[] idx = new int[sub.heads()];
        int n = 0;
        for (int g = 0; g < groups; g++) {
            for (int j = 0; j < perGroup; j++) {
                idx[n++] = g * perGroupFull + j;
            }
        }
        return idx;
    }

    /** Index of the kept (head, channel) pairs in the flat head-major [nh·hd] layout of z, x and the gated norm. */
    public static int[] mambaChannels(LayerSpec.Mamba full, LayerSpec.Mamba sub, int groups) {
        int[] heads = mambaHeads(full, sub, groups);
        int[] idx = new int[heads.length * sub.headDim()];
        int n = 0;
        for (int h : heads) {
            for (int c = 0; c < sub.headDim(); c++) {
                idx[n++] = h * full.headDim() + c;
            }
        }
        return idx;
    }

    /** Number of layers of the given kind that are kept. */
    public int keptLayers(LayerKind kind) {
        int n = 0;
        for (int i = 0; i < layers.size(); i++) {
            if (kept.get(i) && layers.get(i).kind() == kind) {
                n++;
            }
        }
        return n;
    }
}
