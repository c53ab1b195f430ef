package org.nestlm.elastic;

import org.nestlm.sizes.Subnet;

import org.nestlm.model.Architecture;
import org.nestlm.model.LayerSpec;
import org.nestlm.model.ModelConfig;
import org.nestlm.model.WeightNames;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reorders every weight physically so that each ranked order becomes the index order (docs/METHOD.md §3,
 * "permutation to prefixes"): afterwards every nested sub-model is a prefix on every axis ({@link Subnet}), and the permuted
 * model computes exactly the same function (only sums are reordered). New index i holds old index order[i].
 *
 * <ul>
 *   <li>hidden channels: embedding and lm_head columns, every pre-mixer norm and norm_f, the input columns of
 *       in_proj / q / k / v / up, the output rows (and biases) of out_proj / o_proj / down;</li>
 *   <li>MLP neurons: up rows (and bias), down columns;</li>
 *   <li>attention query heads, within their KV group: q row blocks of hd (and bias), o_proj column blocks;
 *       K and V are untouched (KV heads are never cut);</li>
 *   <li>Mamba heads within their group, and head channels (the same permutation inside every head), on the flat
 *       head-major (head, channel) index: z and x rows of in_proj, conv x channels, gated-norm weight, out_proj
 *       columns; per head only: dt rows of in_proj, dt_bias, A_log, D. B and C rows and conv channels are
 *       untouched, so each group keeps its B/C and the group of a head stays {@code h / (nh/G)}.</li>
 * </ul>
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
        ModelConfig c = arch.config();
        int h = arch.hiddenSize();
        int[] ph = rankings.hidden().order();
        Map<String, long[]> shapes = arch.tensorShapes();
        Map<String, float[]> out = new LinkedHashMap<>();
        java.util.function.Function<String, float[]> w = name -> {
            float[] v = weights.get(name);
            if (v == null) {
                throw new IllegalArgumentException("missing tensor '" + name + "'");
            }
            long[] s = shapes.get(name);
            long numel = 1;
            for (long d : s) {
                numel *= d;
            }
            if (v.length != numel) {
                throw new IllegalArgumentException("tensor '" + name + "' has " + v.length + " values, its shape "
                        + java.util.Arrays.toString(s) + " needs " + numel);
            }
            return v;
        };

        out.put(WeightNames.embeddings(), cols(w.apply(WeightNames.embeddings()), c.vocabSize(), h, ph));    // [V, H]
        for (int i = 0; i < arch.layers().size(); i++) {
            final int layer = i;
            java.util.function.Function<String, String> n = part -> WeightNames.mixer(layer, part);
            out.put(WeightNames.layerNorm(i), rows(w.apply(WeightNames.layerNorm(i)), h, 1, ph));            // [H]
            switch (arch.layers().get(i)) {
                case LayerSpec.Mamba m -> {
                    int inner = m.innerSize(), nh = m.heads(), hd = m.headDim();
                    int gn = c.nGroups() * c.ssmStateSize();
                    Rankings.Mamba r = (Rankings.Mamba) rankings.layers().get(i);
                    int[] heads = Rankings.flatten(r.groups());                 // [nh] new head → old head
                    int[] ch = innerOrder(heads, r.channels(), hd);             // [I] new (h, c) → old (h, c)
                    int rowsIn = m.inProjRows(c);
                    // in_proj rows: z [0, I) | x [I, 2I) | B, C [2I, 2I+2GN) untouched | dt [2I+2GN, +nh)
                    int[] inRows = concat(ch, shift(ch, inner), shift(Rankings.identity(2 * gn), 2 * inner),
                            shift(heads, 2 * inner + 2 * gn));
                    out.put(n.apply("in_proj.weight"), cols(rows(w.apply(n.apply("in_proj.weight")), rowsIn, h, inRows), rowsIn, h, ph));
                    if (c.useBias()) {
                        out.put(n.apply("in_proj.bias"), rows(w.apply(n.apply("in_proj.bias")), rowsIn, 1, inRows));
                    }
                    // conv channels: x [0, I) | B, C untouched
                    int conv = m.convDim(c);
                    int[] convRows = concat(ch, shift(Rankings.identity(2 * gn), inner));
                    out.put(n.apply("conv1d.weight"), rows(w.apply(n.apply("conv1d.weight")), conv, c.convKernel(), convRows)); // [C, 1, K]
                    if (c.useConvBias()) {
                        out.put(n.apply("conv1d.bias"), rows(w.apply(n.apply("conv1d.bias")), conv, 1, convRows));
                    }
                    for (String p : new String[] {"dt_bias", "A_log", "D"}) {
                        out.put(n.apply(p), rows(w.apply(n.apply(p)), nh, 1, heads));                         // [nh]
                    }
                    out.put(n.apply("norm.weight"), rows(w.apply(n.apply("norm.weight")), inner, 1, ch));      // [I]
                    out.put(n.apply("out_proj.weight"), rows(cols(w.apply(n.apply("out_proj.weight")), h, inner, ch), h, inner, ph)); // [H, I]
                    if (c.useBias()) {
                        out.put(n.apply("out_proj.bias"), rows(w.apply(n.apply("out_proj.bias")), h, 1, ph));
                    }
                }
                case LayerSpec.Attention a -> {
                    int[] q = blocks(rankings.attentionHeadOrder(i), a.headDim());   // [nH·hd] new row → old row
                    int qRows = a.heads() * a.headDim(), kvRows = a.kvHeads() * a.headDim();
                    out.put(n.apply("q_proj.weight"), cols(rows(w.apply(n.apply("q_proj.weight")), qRows, h, q), qRows, h, ph));
                    out.put(n.apply("k_proj.weight"), cols(w.apply(n.apply("k_proj.weight")), kvRows, h, ph));
                    out.put(n.apply("v_proj.weight"), cols(w.apply(n.apply("v_proj.weight")), kvRows, h, ph));
                    out.put(n.apply("o_proj.weight"), rows(cols(w.apply(n.apply("o_proj.weight")), h, qRows, q), h, qRows, ph));
                    if (c.attentionBias()) {
                        out.put(n.apply("q_proj.bias"), rows(w.apply(n.apply("q_proj.bias")), qRows, 1, q));
                        out.put(n.apply("k_proj.bias"), w.apply(n.apply("k_proj.bias")).clone());
                        out.put(n.apply("v_proj.bias"), w.apply(n.apply("v_proj.bias")).clone());
                        out.put(n.apply("o_proj.bias"), rows(w.apply(n.apply("o_proj.bias")), h, 1, ph));
                    }
                }
                case LayerSpec.Mlp f -> {
                    int[] pf = ((Rankings.Mlp) rankings.layers().get(i)).order();
                    int width = f.width();
                    out.put(n.apply("up_proj.weight"), cols(rows(w.apply(n.apply("up_proj.weight")), width, h, pf), width, h, ph));
                    out.put(n.apply("down_proj.weight"), rows(cols(w.apply(n.apply("down_proj.weight")), h, width, pf), h, width, ph));
                    if (c.mlpBias()) {
                        out.put(n.apply("up_proj.bias"), rows(w.apply(n.apply("up_proj.bias")), width, 1, pf));
                        out.put(n.apply("down_proj.bias"), rows(w.apply(n.apply("down_proj.bias")), h, 1, ph));
                    }
                }
            }
        }
        out.put(WeightNames.normF(), rows(w.apply(WeightNames.normF()), h, 1, ph));
        if (!c.tieWordEmbeddings()) {
            out.put(WeightNames.LM_HEAD, cols(w.apply(WeightNames.LM_HEAD), c.vocabSize(), h, ph));
        }
        for (Map.Entry<String, float[]> e : weights.entrySet()) {
            out.putIfAbsent(e.getKey(), e.getValue().clone());
        }
        return out;
    }

    /**
     * The flat head-major (head, channel) order of z, x and the gated norm: new index {@code h·hd + c} holds old
     * index {@code heads[h]·hd + channels[c]} — heads move as whole blocks and every head gets the same channel order.
     */
    public static int[] innerOrder(int[] heads, int[] channels, int hd) {
        int[] out = new int[heads.length * hd];
        for (int hh = 0; hh < heads.length; hh++) {
            for (int cc = 0; cc < hd; cc++) {
                out[hh * hd + cc] = heads[hh] * hd + channels[cc];
            }
        }
        return out;
    }

    /** Head order expanded to row blocks of {@code size}: new row {@code j·size + d} holds old row {@code heads[j]·size + d}. */
    static int[] blocks(int[] heads, int size) {
        int[] out = new int[heads.length * size];
        for (int j = 0; j < heads.length; j++) {
            for (int d = 0; d < size; d++) {
                out[j * size + d] = heads[j] * size + d;
            }
        }
        return out;
    }

    /** Row-major [nRows, nCols]: new row i = old row order[i]. */
    static float[] rows(float[] m, int nRows, int nCols, int[] order) {
        if (order.length != nRows) {
            throw new IllegalStateException("row order of " + order.length + " for " + nRows + " rows");
        }
        float[] out = new float[m.length];
        for (int i = 0; i < nRows; i++) {
            System.arraycopy(m, order[i] * nCols, out, i * nCols, nCols);
        }
        return out;
    }

    /** Row-major [nRows, nCols]: new column j = old column order[j]. */
    static float[] cols(float[] m, int nRows, int nCols, int[] order) {
        if (order.length != nCols) {
            throw new IllegalStateException("column order of " + order.length + " for " + nCols + " columns");
        }
        float[] out = new float[m.length];
        for (int i = 0; i < nRows; i++) {
            int base = i * nCols;
            for (int j = 0; j < nCols; j++) {
                out[base + j] = m[base + order[j]];
            }
        }
        return out;
    }

    private static int[] shift(int[] idx, int by) {
        int[] out = new int[idx.length];
        for (int i = 0; i < idx.length; i++) {
            out[i] = idx[i] + by;
        }
        return out;
    }

    private static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) {
            n += p.length;
        }
        int[] out = new int[n];
        int k = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, k, p.length);
            k += p.length;
        }
        return out;
    }
}
