package org.nestlm.elastic;

import org.nestlm.sizes.Subnet;

import org.nestlm.model.Architecture;
import org.nestlm.model.IndexSets;
import org.nestlm.model.TensorLayout;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reorders every weight physically so that each ranked order becomes the index order (docs/METHOD.md §3,
 * "permutation to prefixes"): afterwards every nested sub-model is a prefix on every axis ({@link Subnet}), and the
 * permuted model computes exactly the same function (only sums are reordered). New index i holds old index
 * order[i]. A permutation is a selection of the tensor table whose index sets are full orders
 * ({@link TensorLayout#select}); which positions of which tensor each order moves is the table's
 * (docs/ARCHITECTURE.md §3.2). B and C rows and channels, K and V are never moved, so each Mamba group keeps its
 * B/C, the group of a head stays {@code h / (nh/G)} and each query head keeps its KV head.
 */
public final class Permutation {

    private Permutation() {
    }

    /**
     * The permuted weights (canonical names, checkpoint order of {@code arch}); the input map is not modified.
     * Tensors {@code arch} does not know are copied unchanged.
     *
     * @throws IllegalArgumentException when the rankings do not fit the architecture, or a tensor is missing
     */
    public static Map<String, float[]> apply(Map<String, float[]> weights, Architecture arch, Rankings rankings) {
        rankings.validate(arch, "rankings");
        Map<String, float[]> out = new LinkedHashMap<>();
        for (TensorLayout.Selection s : TensorLayout.select(arch, orders(rankings))) {
            out.put(s.target(), s.gather(checked(weights, s.source())));
        }
        for (Map.Entry<String, float[]> e : weights.entrySet()) {
            out.putIfAbsent(e.getKey(), e.getValue().clone());
        }
        return out;
    }

    /**
     * The ranked orders as index sets (new index → old index): residual channels; Mamba heads within their group
     * and one channel order for every head; query heads within their KV group; MLP neurons.
     */
    static IndexSets orders(Rankings rankings) {
        List<IndexSets.Layer> layers = new ArrayList<>();
        for (Rankings.Layer l : rankings.layers()) {
            layers.add(switch (l) {
                case Rankings.Mamba m -> new IndexSets.Mamba(Rankings.flatten(m.groups()), m.channels());
                case Rankings.Attention a -> new IndexSets.Attention(Rankings.flatten(a.groups()));
                case Rankings.Mlp f -> new IndexSets.Mlp(f.order());
            });
        }
        return new IndexSets(rankings.hidden().order(), layers);
    }

    private static float[] checked(Map<String, float[]> weights, TensorLayout.Tensor t) {
        float[] v = weights.get(t.name());
        if (v == null) {
            throw new IllegalArgumentException("missing tensor '" + t.name() + "'");
        }
        long numel = 1;
        for (long d : t.shape()) {
            numel *= d;
        }
        if (v.length != numel) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' has " + v.length + " values, its shape "
                    + Arrays.toString(t.shape()) + " needs " + numel);
        }
        return v;
    }
}
