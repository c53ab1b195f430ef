package org.nestlm.slice;

import org.nestlm.sizes.Subnet;
import org.nestlm.io.TensorEntry;
import org.nestlm.model.Architecture;
import org.nestlm.model.IndexSets;
import org.nestlm.model.LayerSpec;
import org.nestlm.model.TensorLayout;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which rows and columns of which full-model tensor make every tensor of a nested sub-model
 * (docs/METHOD.md §9), without touching any data: the tensor table's selection ({@link TensorLayout#select}) for
 * the sub-model's kept index sets. The same index sets as {@link Subnet#slice}, but as a plan: the slicer reads one
 * tensor at a time from the mapping (bounded memory for large models), and the pure-Java engine turns each cut
 * into a strided view of the mapped weights. Every source tensor is seen as the table's row-major matrix
 * {@code [srcRows, srcCols]}.
 *
 * @param full the full (elastic) model
 * @param sub  the nested sub-model, validated against {@code full}
 * @param cut  the architecture of the cut-out model (kept layers renumbered 0…)
 * @param cuts by target (sliced-checkpoint) canonical name, in {@link Architecture#tensorShapes()} order
 */
public record SlicePlan(Architecture full, Subnet sub, Architecture cut, Map<String, Cut> cuts) {

    /**
     * One tensor of the sub-model.
     *
     * @param target  canonical name in the sliced checkpoint
     * @param source  canonical name in the full checkpoint
     * @param shape   shape of the target tensor
     * @param srcRows rows of the source seen as a matrix
     * @param srcCols columns of the source seen as a matrix
     * @param rows    source rows kept, in target order
     * @param cols    source columns kept, in target order
     */
    public record Cut(String target, String source, long[] shape, int srcRows, int srcCols, int[] rows, int[] cols) {

        public long numel() {
            return (long) rows.length * cols.length;
        }

        /** Widens the kept elements of a mapped source tensor to float, row-major [rows, cols]. */
        public float[] gather(TensorEntry e) {
            if (e.numel() != (long) srcRows * srcCols) {
                throw new IllegalArgumentException((e.file() == null ? "" : e.file() + ": ") + "tensor '" + source + "' has "
                        + e.numel() + " elements, expected " + srcRows + " x " + srcCols);
            }
            float[] out = new float[Math.toIntExact(numel())];
            int n = 0;
            for (int r : rows) {
                long base = (long) r * srcCols;
                for (int c : cols) {
                    out[n++] = e.getFloat(base + c);
                }
            }
            return out;
        }

        /** The same cut applied to a full-model tensor held as floats. */
        public float[] gather(float[] src) {
            return TensorLayout.gather(src, srcCols, rows, cols);
        }

        /** True when the cut keeps the whole source. */
        public boolean whole() {
            return rows.length == srcRows && cols.length == srcCols && isRange(rows) && isRange(cols);
        }
    }

    /** Plans the cut of {@code sub} out of {@code full}. */
    public static SlicePlan of(Architecture full, Subnet sub) {
        sub.validate(full);
        Architecture cut = sub.architecture(full.config());
        Map<String, long[]> shapes = cut.tensorShapes();
        Map<String, Cut> cuts = new LinkedHashMap<>();
        for (TensorLayout.Selection k : TensorLayout.select(full, indexSets(full, sub))) {
            TensorLayout.Tensor src = k.source();
            cuts.put(k.target(), new Cut(k.target(), src.name(), shapes.get(k.target()), src.rows().size(), src.cols().size(),
                    k.rows(), k.cols()));
        }
        if (!cuts.keySet().equals(shapes.keySet())) {
            throw new IllegalStateException("slice plan covers " + cuts.keySet() + " but the cut model has " + shapes.keySet());
        }
        for (Cut k : cuts.values()) {
            long n = 1;
            for (long d : k.shape()) {
                n *= d;
            }
            if (n != k.numel()) {
                throw new IllegalStateException("slice plan of " + k.target() + " has " + k.numel() + " elements, shape needs " + n);
            }
        }
        return new SlicePlan(full, sub, cut, Collections.unmodifiableMap(cuts));
    }

    /**
     * The kept indices of {@code sub} per elastic dimension (docs/METHOD.md §9): the first d_e* residual channels;
     * per kept layer the first k Mamba heads of every group with the first m_d* channels of each, the first query
     * heads of every KV group, the first d_f* MLP neurons; null for a dropped layer.
     */
    static IndexSets indexSets(Architecture full, Subnet sub) {
        int groups = full.config().nGroups();
        List<IndexSets.Layer> layers = new ArrayList<>();
        for (int i = 0; i < full.layers().size(); i++) {
            LayerSpec s = sub.layers().get(i);
            layers.add(!sub.kept().get(i) ? null : switch (full.layers().get(i)) {
                case LayerSpec.Mamba fm -> new IndexSets.Mamba(Subnet.mambaHeads(fm, (LayerSpec.Mamba) s, groups),
                        TensorLayout.range(((LayerSpec.Mamba) s).headDim()));
                case LayerSpec.Attention fa -> new IndexSets.Attention(Subnet.attentionHeads(fa, (LayerSpec.Attention) s));
                case LayerSpec.Mlp ff -> new IndexSets.Mlp(TensorLayout.range(((LayerSpec.Mlp) s).width()));
            });
        }
        return new IndexSets(TensorLayout.range(sub.hiddenSize()), layers);
    }

    /** The cut producing target tensor {@code name}. */
    public Cut cut(String name) {
        Cut k = cuts.get(name);
        if (k == null) {
            throw new IllegalArgumentException("the sub-model has no tensor '" + name + "'");
        }
        return k;
    }

    /** Elements of the sliced model: equals {@code sub.parameterCount(config)}. */
    public long parameterCount() {
        return cuts.values().stream().mapToLong(Cut::numel).sum();
    }

    /** Source tensor names the sub-model reads (for residency accounting). */
    public List<String> sources() {
        List<String> s = new ArrayList<>();
        cuts.values().forEach(k -> s.add(k.source()));
        return s;
    }

    static boolean isRange(int[] idx) {
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] != i) {
                return false;
            }
        }
        return true;
    }
}
