package org.nestlm.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Nemotron-H tensor table (docs/ARCHITECTURE.md §3.2–3.5, §3.7): every tensor of a concrete model, its shape, and
 * for each axis which elastic dimension indexes each run of its positions. Written once here and read by the
 * architecture's shapes, the importance permutation, the slice plan and the engine's loader; a permutation is a
 * selection whose index sets are full orders, a slice one whose index sets are kept prefixes ({@link #select}).
 *
 * <p>Every tensor is seen as a row-major matrix {@code [rows, cols]}: 2-D weights as they are, vectors as
 * {@code [n, 1]}, conv1d {@code [C, 1, K]} as {@code [C, K]}.
 */
public final class TensorLayout {

    private TensorLayout() {
    }

    /** What indexes a run of positions along an axis. */
    public enum Dim {
        /** Residual channel e (the embedding width d_e). */
        HIDDEN,
        /** The flat head-major (head, channel) index {@code h·hd + c} of one Mamba layer: z, x, gated norm. */
        MAMBA_CHANNELS,
        /** Mamba head h: dt rows, dt_bias, A_log, D. */
        MAMBA_HEADS,
        /** Attention query head j, a block of {@code dh} positions. */
        QUERY_HEADS,
        /** MLP neuron. */
        FFN,
        /** Never cut or moved: vocabulary, B and C, K and V, conv taps, the single column of a vector. */
        NONE
    }

    /** A run of {@code size} consecutive positions of an axis (in the full tensor) indexed by {@code dim}. */
    public record Part(Dim dim, int size) {
    }

    /** The parts of an axis, in position order. */
    public record Axis(List<Part> parts) {

        public Axis {
            parts = List.copyOf(parts);
        }

        static Axis of(Part... parts) {
            return new Axis(List.of(parts));
        }

        /** One part: {@code size} positions indexed by {@code dim}. */
        static Axis of(Dim dim, int size) {
            return of(new Part(dim, size));
        }

        /** Number of positions. */
        public int size() {
            int n = 0;
            for (Part p : parts) {
                n += p.size();
            }
            return n;
        }
    }

    /**
     * One tensor of the table.
     *
     * @param name  canonical (hub) name
     * @param layer the layer it belongs to, or −1 for the embeddings, norm_f and lm_head
     * @param part  the name inside the layer ({@code norm.weight}, {@code mixer.in_proj.weight}, …); the whole name
     *              for a tensor outside the layers
     * @param shape the stored shape
     * @param rows  the row axis of the matrix view
     * @param cols  the column axis of the matrix view
     */
    public record Tensor(String name, int layer, String part, long[] shape, Axis rows, Axis cols) {

        /** Elements: {@code rows · cols}, the product of the shape. */
        public long numel() {
            return (long) rows.size() * cols.size();
        }
    }

    /**
     * Which source positions make one target tensor.
     *
     * @param target canonical name in the target model (layers renumbered when some are dropped)
     * @param source the source tensor
     * @param rows   source rows, in target order
     * @param cols   source columns, in target order
     */
    public record Selection(String target, Tensor source, int[] rows, int[] cols) {

        /** The selected elements of the source held as row-major floats, row-major [rows, cols]. */
        public float[] gather(float[] src) {
            return TensorLayout.gather(src, source.cols().size(), rows, cols);
        }
    }

    /** Every tensor of {@code arch}, in checkpoint order: embeddings, each layer's, norm_f, lm_head. */
    public static List<Tensor> of(Architecture arch) {
        ModelConfig c = arch.config();
        int h = arch.hiddenSize();
        List<Tensor> t = new ArrayList<>();
        t.add(matrix(-1, WeightNames.embeddings(), Axis.of(Dim.NONE, c.vocabSize()), Axis.of(Dim.HIDDEN, h)));   // [V, H]
        for (int i = 0; i < arch.layers().size(); i++) {
            t.add(vector(i, "norm.weight", Axis.of(Dim.HIDDEN, h)));                                           // [H]
            switch (arch.layers().get(i)) {
                case LayerSpec.Mamba m -> mamba(t, c, h, i, m);
                case LayerSpec.Attention a -> attention(t, c, h, i, a);
                case LayerSpec.Mlp f -> {
                    Axis ffn = Axis.of(Dim.FFN, f.width());
                    t.add(matrix(i, "mixer.up_proj.weight", ffn, hidden(h)));                                  // [F, H]
                    t.add(matrix(i, "mixer.down_proj.weight", hidden(h), ffn));                                // [H, F]
                    if (c.mlpBias()) {
                        t.add(vector(i, "mixer.up_proj.bias", ffn));
                        t.add(vector(i, "mixer.down_proj.bias", hidden(h)));
                    }
                }
            }
        }
        t.add(vector(-1, WeightNames.normF(), hidden(h)));                                                    // [H]
        if (!c.tieWordEmbeddings()) {
            t.add(matrix(-1, WeightNames.LM_HEAD, Axis.of(Dim.NONE, c.vocabSize()), hidden(h)));               // [V, H]
        }
        return t;
    }

    /** in_proj rows z | x | B | C | dt (docs/ARCHITECTURE.md §3.3); conv channels x | B | C. */
    private static void mamba(List<Tensor> t, ModelConfig c, int h, int i, LayerSpec.Mamba m) {
        int inner = m.innerSize(), gn = c.nGroups() * c.ssmStateSize();
        Part z = new Part(Dim.MAMBA_CHANNELS, inner), x = z, bc = new Part(Dim.NONE, 2 * gn);
        Axis in = Axis.of(z, x, bc, new Part(Dim.MAMBA_HEADS, m.heads()));
        Axis conv = Axis.of(x, bc);
        Axis heads = Axis.of(Dim.MAMBA_HEADS, m.heads());
        Axis channels = Axis.of(Dim.MAMBA_CHANNELS, inner);
        t.add(matrix(i, "mixer.in_proj.weight", in, hidden(h)));                                               // [2I+2GN+nh, H]
        if (c.useBias()) {
            t.add(vector(i, "mixer.in_proj.bias", in));
        }
        int k = c.convKernel();
        t.add(new Tensor(WeightNames.layer(i, "mixer.conv1d.weight"), i, "mixer.conv1d.weight",
                new long[] {conv.size(), 1, k}, conv, Axis.of(Dim.NONE, k)));                                  // [C, 1, K]
        if (c.useConvBias()) {
            t.add(vector(i, "mixer.conv1d.bias", conv));
        }
        t.add(vector(i, "mixer.dt_bias", heads));                                                              // [nh]
        t.add(vector(i, "mixer.A_log", heads));
        t.add(vector(i, "mixer.D", heads));
        t.add(vector(i, "mixer.norm.weight", channels));                                                       // [I]
        t.add(matrix(i, "mixer.out_proj.weight", hidden(h), channels));                                        // [H, I]
        if (c.useBias()) {
            t.add(vector(i, "mixer.out_proj.bias", hidden(h)));
        }
    }

    /** Query heads own blocks of dh rows of q and columns of o; K and V are never cut (docs/ARCHITECTURE.md §3.4). */
    private static void attention(List<Tensor> t, ModelConfig c, int h, int i, LayerSpec.Attention a) {
        Axis q = Axis.of(Dim.QUERY_HEADS, a.heads() * a.headDim());
        Axis kv = Axis.of(Dim.NONE, a.kvHeads() * a.headDim());
        t.add(matrix(i, "mixer.q_proj.weight", q, hidden(h)));                                                 // [nH·dh, H]
        t.add(matrix(i, "mixer.k_proj.weight", kv, hidden(h)));                                                // [nKV·dh, H]
        t.add(matrix(i, "mixer.v_proj.weight", kv, hidden(h)));
        t.add(matrix(i, "mixer.o_proj.weight", hidden(h), q));                                                 // [H, nH·dh]
        if (c.attentionBias()) {
            t.add(vector(i, "mixer.q_proj.bias", q));
            t.add(vector(i, "mixer.k_proj.bias", kv));
            t.add(vector(i, "mixer.v_proj.bias", kv));
            t.add(vector(i, "mixer.o_proj.bias", hidden(h)));
        }
    }

    private static Axis hidden(int h) {
        return Axis.of(Dim.HIDDEN, h);
    }

    private static Tensor matrix(int layer, String part, Axis rows, Axis cols) {
        String name = layer < 0 ? part : WeightNames.layer(layer, part);
        return new Tensor(name, layer, part, new long[] {rows.size(), cols.size()}, rows, cols);
    }

    private static Tensor vector(int layer, String part, Axis rows) {
        String name = layer < 0 ? part : WeightNames.layer(layer, part);
        return new Tensor(name, layer, part, new long[] {rows.size()}, rows, Axis.of(Dim.NONE, 1));
    }

    /** The table by canonical name, in checkpoint order. */
    public static Map<String, Tensor> byName(Architecture arch) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (Tensor t : of(arch)) {
            m.put(t.name(), t);
        }
        return Collections.unmodifiableMap(m);
    }

    /**
     * Expands per-dimension index sets into per-axis source positions for every tensor of the target model: the
     * tensors of {@code source}'s kept layers, renumbered from 0, in checkpoint order. A part of dimension
     * {@code d} at offset {@code o} contributes {@code o + i} for every index {@code i} of {@code d}'s set, in set
     * order; a part of {@link Dim#NONE} contributes all its positions in order.
     *
     * @throws IllegalArgumentException when a layer's index set does not match its kind
     */
    public static List<Selection> select(Architecture source, IndexSets sets) {
        if (sets.layers().size() != source.layers().size()) {
            throw new IllegalArgumentException(sets.layers().size() + " layer index sets for " + source.layers().size() + " layers");
        }
        List<Selection> out = new ArrayList<>();
        int[] target = new int[source.layers().size()];
        int next = 0;
        for (int i = 0; i < target.length; i++) {
            target[i] = sets.layers().get(i) == null ? -1 : next++;
        }
        for (Tensor t : of(source)) {
            if (t.layer() >= 0 && target[t.layer()] < 0) {
                continue;
            }
            String name = t.layer() < 0 ? t.name() : WeightNames.layer(target[t.layer()], t.part());
            LayerSpec spec = t.layer() < 0 ? null : source.layers().get(t.layer());
            IndexSets.Layer layer = t.layer() < 0 ? null : sets.layers().get(t.layer());
            out.add(new Selection(name, t, positions(t.rows(), sets, spec, layer), positions(t.cols(), sets, spec, layer)));
        }
        return out;
    }

    private static int[] positions(Axis axis, IndexSets sets, LayerSpec spec, IndexSets.Layer layer) {
        List<int[]> runs = new ArrayList<>();
        int offset = 0, n = 0;
        for (Part p : axis.parts()) {
            int[] idx = switch (p.dim()) {
                case NONE -> range(p.size());
                case HIDDEN -> sets.hidden();
                case MAMBA_CHANNELS -> {
                    IndexSets.Mamba m = as(IndexSets.Mamba.class, layer, spec);
                    yield blocks(m.heads(), ((LayerSpec.Mamba) spec).headDim(), m.channels());
                }
                case MAMBA_HEADS -> as(IndexSets.Mamba.class, layer, spec).heads();
                case QUERY_HEADS -> {
                    int dh = ((LayerSpec.Attention) spec).headDim();
                    yield blocks(as(IndexSets.Attention.class, layer, spec).queryHeads(), dh, range(dh));
                }
                case FFN -> as(IndexSets.Mlp.class, layer, spec).neurons();
            };
            int[] shifted = new int[idx.length];
            for (int j = 0; j < idx.length; j++) {
                shifted[j] = offset + idx[j];
            }
            runs.add(shifted);
            offset += p.size();
            n += idx.length;
        }
        int[] out = new int[n];
        int k = 0;
        for (int[] r : runs) {
            System.arraycopy(r, 0, out, k, r.length);
            k += r.length;
        }
        return out;
    }

    private static <T extends IndexSets.Layer> T as(Class<T> type, IndexSets.Layer layer, LayerSpec spec) {
        if (!type.isInstance(layer)) {
            throw new IllegalArgumentException("a " + spec.kind() + " layer needs " + type.getSimpleName()
                    + " index sets, got " + layer);
        }
        return type.cast(layer);
    }

    /**
     * Blocks of {@code size} positions: entry {@code j·within.length + d} is {@code heads[j]·size + within[d]}, so
     * whole blocks move and every block keeps the same positions {@code within}.
     */
    static int[] blocks(int[] heads, int size, int[] within) {
        int[] out = new int[heads.length * within.length];
        for (int j = 0; j < heads.length; j++) {
            for (int d = 0; d < within.length; d++) {
                out[j * within.length + d] = heads[j] * size + within[d];
            }
        }
        return out;
    }

    /** 0 … n−1. */
    public static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = i;
        }
        return r;
    }

    /** Elements {@code (r, c)} of a row-major matrix with {@code srcCols} columns, for r in rows and c in cols. */
    public static float[] gather(float[] src, int srcCols, int[] rows, int[] cols) {
        float[] out = new float[Math.multiplyExact(rows.length, cols.length)];
        int n = 0;
        for (int r : rows) {
            int base = r * srcCols;
            for (int c : cols) {
                out[n++] = src[base + c];
            }
        }
        return out;
    }

    /** Shapes by name, in checkpoint order ({@link Architecture#tensorShapes()}). */
    static Map<String, long[]> shapes(Architecture arch) {
        Map<String, long[]> m = new LinkedHashMap<>();
        for (Tensor t : of(arch)) {
            m.put(t.name(), t.shape().clone());
        }
        return m;
    }
}
