package org.nestlm.slice;

import org.nestlm.sizes.Subnet;
import org.nestlm.io.TensorEntry;
import org.nestlm.model.Architecture;
import org.nestlm.model.LayerSpec;
import org.nestlm.model.ModelConfig;
import org.nestlm.model.WeightNames;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which rows and columns of which full-model tensor make every tensor of a nested sub-model
 * (docs/METHOD.md §9), without touching any data. The same index sets as
 * {@link Subnet#slice}, but as a plan: the slicer reads one tensor at a time from the mapping (bounded memory
 * for large models), and the pure-Java engine turns each cut into a strided view of the mapped weights.
 *
 * <p>Every source tensor is seen as a row-major matrix {@code [srcRows, srcCols]}: 2-D weights as they are,
 * vectors as {@code [n, 1]}, conv1d {@code [C, 1, K]} as {@code [C, K]}.
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
            float[] out = new float[Math.toIntExact(numel())];
            int n = 0;
            for (int r : rows) {
                int base = r * srcCols;
                for (int c : cols) {
                    out[n++] = src[base + c];
                }
            }
            return out;
        }

        /** True when the cut keeps the whole source. */
        public boolean whole() {
            return rows.length == srcRows && cols.length == srcCols && isRange(rows) && isRange(cols);
        }
    }

    /** Plans the cut of {@code sub} out of {@code full}. */
    public static SlicePlan of(Architecture full, Subnet sub) {
        sub.validate(full);
        ModelConfig c = full.config();
        Architecture cut = sub.architecture(c);
        Map<String, long[]> shapes = cut.tensorShapes();
        Map<String, Cut> cuts = new LinkedHashMap<>();
        int hf = full.hiddenSize(), v = c.vocabSize();
        int[] hid = range(sub.hiddenSize()), one = {0};
        Adder add = (target, source, srcRows, srcCols, rows, cols) ->
                cuts.put(target, new Cut(target, source, shapes.get(target), srcRows, srcCols, rows, cols));
        add.put(WeightNames.embeddings(), WeightNames.embeddings(), v, hf, range(v), hid);
        int gn = c.nGroups() * c.ssmStateSize();
        int dst = 0;
        for (int i = 0; i < full.layers().size(); i++) {
            if (!sub.kept().get(i)) {
                continue;
            }
            final int s = i, d = dst++;
            Adder mixer = (tPart, sPart, srcRows, srcCols, rows, cols) ->
                    add.put(WeightNames.mixer(d, tPart), WeightNames.mixer(s, sPart), srcRows, srcCols, rows, cols);
            add.put(WeightNames.layerNorm(d), WeightNames.layerNorm(s), hf, 1, hid, one);
            switch (full.layers().get(i)) {
                case LayerSpec.Mamba fm -> {
                    LayerSpec.Mamba sm = (LayerSpec.Mamba) sub.layers().get(i);
                    int inner = fm.innerSize();
                    int[] ch = Subnet.mambaChannels(fm, sm, c.nGroups());     // kept (head, channel) of z, x, norm
                    int[] heads = Subnet.mambaHeads(fm, sm, c.nGroups());
                    // in_proj rows z | x | B | C | dt: kept z and x channels, every B and C row, kept heads' dt
                    int[] inRows = concat(ch, shift(ch, inner), shift(range(2 * gn), 2 * inner), shift(heads, 2 * inner + 2 * gn));
                    int[] convRows = concat(ch, shift(range(2 * gn), inner));  // conv channels x | B | C
                    int rowsIn = fm.inProjRows(c), conv = fm.convDim(c);
                    mixer.put("in_proj.weight", "in_proj.weight", rowsIn, hf, inRows, hid);
                    if (c.useBias()) {
                        mixer.put("in_proj.bias", "in_proj.bias", rowsIn, 1, inRows, one);
                    }
                    mixer.put("conv1d.weight", "conv1d.weight", conv, c.convKernel(), convRows, range(c.convKernel()));
                    if (c.useConvBias()) {
                        mixer.put("conv1d.bias", "conv1d.bias", conv, 1, convRows, one);
                    }
                    for (String p : List.of("dt_bias", "A_log", "D")) {
                        mixer.put(p, p, fm.heads(), 1, heads, one);
                    }
                    mixer.put("norm.weight", "norm.weight", inner, 1, ch, one);
                    mixer.put("out_proj.weight", "out_proj.weight", hf, inner, hid, ch);
                    if (c.useBias()) {
                        mixer.put("out_proj.bias", "out_proj.bias", hf, 1, hid, one);
                    }
                }
                case LayerSpec.Attention fa -> {
                    LayerSpec.Attention sa = (LayerSpec.Attention) sub.layers().get(i);
                    int hd = fa.headDim(), qRows = fa.heads() * hd, kvRows = fa.kvHeads() * hd;
                    int[] q = expand(Subnet.attentionHeads(fa, sa), hd);        // kept query heads' rows
                    int[] kv = range(kvRows);                                   // KV heads are never cut
                    mixer.put("q_proj.weight", "q_proj.weight", qRows, hf, q, hid);
                    mixer.put("k_proj.weight", "k_proj.weight", kvRows, hf, kv, hid);
                    mixer.put("v_proj.weight", "v_proj.weight", kvRows, hf, kv, hid);
                    mixer.put("o_proj.weight", "o_proj.weight", hf, qRows, hid, q);
                    if (c.attentionBias()) {
                        mixer.put("q_proj.bias", "q_proj.bias", qRows, 1, q, one);
                        mixer.put("k_proj.bias", "k_proj.bias", kvRows, 1, kv, one);
                        mixer.put("v_proj.bias", "v_proj.bias", kvRows, 1, kv, one);
                        mixer.put("o_proj.bias", "o_proj.bias", hf, 1, hid, one);
                    }
                }
                case LayerSpec.Mlp ff -> {
                    int[] neurons = range(((LayerSpec.Mlp) sub.layers().get(i)).width());
                    mixer.put("up_proj.weight", "up_proj.weight", ff.width(), hf, neurons, hid);
                    mixer.put("down_proj.weight", "down_proj.weight", hf, ff.width(), hid, neurons);
                    if (c.mlpBias()) {
                        mixer.put("up_proj.bias", "up_proj.bias", ff.width(), 1, neurons, one);
                        mixer.put("down_proj.bias", "down_proj.bias", hf, 1, hid, one);
                    }
                }
            }
        }
        add.put(WeightNames.normF(), WeightNames.normF(), hf, 1, hid, one);
        if (!c.tieWordEmbeddings()) {
            add.put(WeightNames.LM_HEAD, WeightNames.LM_HEAD, v, hf, range(v), hid);
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

    @FunctionalInterface
    private interface Adder {
        void put(String target, String source, int srcRows, int srcCols, int[] rows, int[] cols);
    }

    static boolean isRange(int[] idx) {
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] != i) {
                return false;
            }
        }
        return true;
    }

    static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = i;
        }
        return r;
    }

    static int[] shift(int[] idx, int by) {
        int[] r = new int[idx.length];
        for (int i = 0; i < idx.length; i++) {
            r[i] = idx[i] + by;
        }
        return r;
    }

    static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) {
            n += p.length;
        }
        int[] r = new int[n];
        int o = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, r, o, p.length);
            o += p.length;
        }
        return r;
    }

    /** Head indices to row indices: head j covers rows j·hd … j·hd+hd−1. */
    static int[] expand(int[] heads, int hd) {
        int[] r = new int[heads.length * hd];
        for (int i = 0; i < heads.length; i++) {
            for (int c = 0; c < hd; c++) {
                r[i * hd + c] = heads[i] * hd + c;
            }
        }
        return r;
    }
}
