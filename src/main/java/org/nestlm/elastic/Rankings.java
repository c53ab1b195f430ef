package org.nestlm.elastic;

import org.nestlm.sizes.Subnet;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import org.nestlm.model.Architecture;
import org.nestlm.model.LayerSpec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The importance rankings of a model on every elastic axis (docs/METHOD.md §2): the reusable artifact that
 * {@link Permutation} turns into a physical weight order, so that every nested sub-model is a prefix
 * ({@link Subnet}). Saved as {@code rankings.json} by {@link RankingsJson}.
 *
 * <p>Every {@code order} lists indices most important first: {@code order[r]} is the index (in the model the
 * rankings were measured on) of the element of rank {@code r}. Group-aware axes store one order per group, with
 * indices <b>local to the group</b> (0 … size−1), so an element can never leave its group: Mamba head
 * {@code g·(nh/G) + groups[g][r]} has rank {@code r} in group {@code g}; attention query head
 * {@code g·(nH/nKV) + groups[g][r]} has rank {@code r} in KV group {@code g}. Scores are indexed by the original
 * (global) index, not by rank. Depth is a removal order, least important first (MLM's {@code layer_ranking_list}).
 *
 * <p>Records holding arrays compare arrays by reference; compare rankings through their JSON.
 *
 * @param version     format version, {@link #VERSION}
 * @param calibration what the scores were measured on
 * @param hidden      residual (embedding) channels, one order for all layers
 * @param layers      one entry per layer of the model, in layer order
 * @param depth       the greedy layer-removal order
 */
public record Rankings(int version, Calibration calibration, Hidden hidden, List<Layer> layers, Depth depth) {

    /** The rankings.json format this code reads and writes. */
    public static final int VERSION = 1;

    public Rankings {
        layers = List.copyOf(layers);
    }

    /**
     * The calibration data.
     *
     * @param source       human description of the corpus (or "ids" / "synthetic")
     * @param samples      sequences used for the width scores
     * @param seqLen       tokens per sequence
     * @param batchSize    sequences per forward pass
     * @param depthSamples sequences used for the depth search (a prefix of the width samples)
     */
    public record Calibration(String source, int samples, int seqLen, int batchSize, int depthSamples) {
    }

    /**
     * Hidden channels: {@code sqrt(Σ_batch (mean_seq |u|)²)} of every pre-mixer norm output u [b, L, H], summed
     * over layers (docs/METHOD.md §2.2).
     *
     * @param order  [H], most important first
     * @param scores [H], by channel
     */
    public record Hidden(int[] order, double[] scores) {
    }

    /** The ranking of one layer's own width axes. */
    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "kind")
    @JsonSubTypes({
            @JsonSubTypes.Type(value = Mamba.class, name = "mamba"),
            @JsonSubTypes.Type(value = Attention.class, name = "attention"),
            @JsonSubTypes.Type(value = Mlp.class, name = "mlp")})
    public sealed interface Layer permits Mamba, Attention, Mlp {
    }

    /**
     * A Mamba layer (Eqs 3–4). Head scores are the L2 over the top {@code rankingHeadDim} channels only, so one
     * head ranking serves every head-dim candidate down to that size (docs/METHOD.md §2.3).
     *
     * @param groups         [G][nh/G], local head indices within each group, most important first
     * @param headScores     [nh], by global head
     * @param channels       [hd], head-channel order shared by every head of the layer
     * @param channelScores  [hd], by channel: L2 across heads of the x-branch scores
     * @param rankingHeadDim m_d*: how many top channels the head scores use
     */
    public record Mamba(int[][] groups, double[] headScores, int[] channels, double[] channelScores, int rankingHeadDim)
            implements Layer {
    }

    /**
     * An attention layer: query heads ranked within their KV group by the L2 over head_dim of the o_proj input.
     *
     * @param groups     [nKV][nH/nKV], local query-head indices within each KV group, most important first
     * @param headScores [nH], by global query head
     */
    public record Attention(int[][] groups, double[] headScores) implements Layer {
    }

    /**
     * An MLP layer: neurons by their pre-activation magnitude (Eq 2).
     *
     * @param order  [F], most important first
     * @param scores [F], by neuron
     */
    public record Mlp(int[] order, double[] scores) implements Layer {
    }

    /**
     * Iterative normalized-MSE depth ranking (Eq 5): round r removes, among the remaining candidates, the layer
     * whose removal (together with the r already removed) changes the full model's logits least.
     *
     * @param removalOrder       layer indices, least important first; layers absent are never dropped
     * @param normalizedMse      per removal step, {@code Σ(M_full − M_−S)² / Σ M_full²} with S the first r+1 layers
     * @param protectedLayers    layers that were never candidates (attention layers, unless a minimum is set)
     * @param minAttentionLayers attention layers always kept ({@code -1} when all are protected)
     */
    public record Depth(int[] removalOrder, double[] normalizedMse, int[] protectedLayers, int minAttentionLayers) {

        /** No depth ranking: nothing may be removed. */
        public static Depth none() {
            return new Depth(new int[0], new double[0], new int[0], -1);
        }

        /** The layers kept when the first {@code removed} entries of the removal order are dropped. */
        public boolean[] kept(int layers, int removed) {
            if (removed < 0 || removed > removalOrder.length) {
                throw new IllegalArgumentException("can remove 0.." + removalOrder.length + " layers, not " + removed);
            }
            boolean[] keep = new boolean[layers];
            Arrays.fill(keep, true);
            for (int i = 0; i < removed; i++) {
                keep[removalOrder[i]] = false;
            }
            return keep;
        }
    }

    // ---- derived orders -----------------------------------------------------------------------------------

    /** A group-local order as a global permutation: new index {@code g·k + r} holds old index {@code g·k + groups[g][r]}. */
    public static int[] flatten(int[][] groups) {
        int k = groups.length == 0 ? 0 : groups[0].length;
        int[] out = new int[groups.length * k];
        for (int g = 0; g < groups.length; g++) {
            for (int r = 0; r < k; r++) {
                out[g * k + r] = g * k + groups[g][r];
            }
        }
        return out;
    }

    /** Mamba heads as a global permutation [nh] (new head → old head); heads never leave their group. */
    @JsonIgnore
    public int[] mambaHeadOrder(int layer) {
        return flatten(((Mamba) layers.get(layer)).groups());
    }

    /** Attention query heads as a global permutation [nH] (new head → old head), within KV groups. */
    @JsonIgnore
    public int[] attentionHeadOrder(int layer) {
        return flatten(((Attention) layers.get(layer)).groups());
    }

    /**
     * The rankings of the permuted model: every width order becomes the identity 0 … n−1 and every score moves
     * with its element (so scores stay sorted by rank); the depth removal order is unchanged (layers are not
     * reordered). A permuted checkpoint carries these.
     */
    public Rankings permuted() {
        List<Layer> out = new ArrayList<>();
        for (Layer l : layers) {
            out.add(switch (l) {
                case Mamba m -> new Mamba(identityGroups(m.groups()), gather(m.headScores(), flatten(m.groups())),
                        identity(m.channels().length), gather(m.channelScores(), m.channels()), m.rankingHeadDim());
                case Attention a -> new Attention(identityGroups(a.groups()), gather(a.headScores(), flatten(a.groups())));
                case Mlp f -> new Mlp(identity(f.order().length), gather(f.scores(), f.order()));
            });
        }
        return new Rankings(version, calibration, new Hidden(identity(hidden.order().length),
                gather(hidden.scores(), hidden.order())), out, depth);
    }

    /** The identity rankings of an architecture (no measured importance): permuting by them changes nothing. */
    public static Rankings identity(Architecture arch, Calibration calibration) {
        int groups = arch.config().nGroups();
        List<Layer> out = new ArrayList<>();
        for (LayerSpec s : arch.layers()) {
            out.add(switch (s) {
                case LayerSpec.Mamba m -> new Mamba(identityGroups(groups, m.heads() / groups), new double[m.heads()],
                        identity(m.headDim()), new double[m.headDim()], m.headDim());
                case LayerSpec.Attention a -> new Attention(identityGroups(a.kvHeads(), a.groupSize()), new double[a.heads()]);
                case LayerSpec.Mlp f -> new Mlp(identity(f.width()), new double[f.width()]);
            });
        }
        return new Rankings(VERSION, calibration, new Hidden(identity(arch.hiddenSize()), new double[arch.hiddenSize()]),
                out, Depth.none());
    }

    /** True when every width order is the identity (a permuted model's rankings). */
    @JsonIgnore
    public boolean isWidthIdentity() {
        if (!isIdentity(hidden.order())) {
            return false;
        }
        for (Layer l : layers) {
            boolean id = switch (l) {
                case Mamba m -> isIdentity(flatten(m.groups())) && isIdentity(m.channels());
                case Attention a -> isIdentity(flatten(a.groups()));
                case Mlp f -> isIdentity(f.order());
            };
            if (!id) {
                return false;
            }
        }
        return true;
    }

    // ---- validation ---------------------------------------------------------------------------------------

    /**
     * Checks that these rankings describe {@code arch}: the version, every order a permutation of the right size,
     * group shapes matching the model, score lengths, depth indices in range and never a protected layer.
     *
     * @param source named in error messages (the rankings file)
     * @throws IllegalArgumentException naming the source and the field
     */
    public Rankings validate(Architecture arch, String source) {
        String at = source + ": ";
        if (version != VERSION) {
            throw new IllegalArgumentException(at + "field 'version' is " + version + ", this nestlm reads version " + VERSION);
        }
        if (calibration == null || hidden == null || depth == null) {
            throw new IllegalArgumentException(at + "fields 'calibration', 'hidden' and 'depth' are required");
        }
        checkPermutation(hidden.order(), arch.hiddenSize(), at + "hidden.order");
        checkLength(hidden.scores(), arch.hiddenSize(), at + "hidden.scores");
        if (layers.size() != arch.layers().size()) {
            throw new IllegalArgumentException(at + "field 'layers' has " + layers.size() + " entries but the model has "
                    + arch.layers().size() + " layers");
        }
        int g = arch.config().nGroups();
        for (int i = 0; i < layers.size(); i++) {
            String f = at + "layers[" + i + "]";
            Layer l = layers.get(i);
            switch (arch.layers().get(i)) {
                case LayerSpec.Mamba m -> {
                    if (!(l instanceof Mamba r)) {
                        throw new IllegalArgumentException(f + ": kind is " + kind(l) + " but layer " + i + " is mamba");
                    }
                    checkGroups(r.groups(), g, m.heads() / g, f + ".groups");
                    checkLength(r.headScores(), m.heads(), f + ".headScores");
                    checkPermutation(r.channels(), m.headDim(), f + ".channels");
                    checkLength(r.channelScores(), m.headDim(), f + ".channelScores");
                    if (r.rankingHeadDim() < 1 || r.rankingHeadDim() > m.headDim()) {
                        throw new IllegalArgumentException(f + ".rankingHeadDim: " + r.rankingHeadDim() + " outside 1.." + m.headDim());
                    }
                }
                case LayerSpec.Attention a -> {
                    if (!(l instanceof Attention r)) {
                        throw new IllegalArgumentException(f + ": kind is " + kind(l) + " but layer " + i + " is attention");
                    }
                    checkGroups(r.groups(), a.kvHeads(), a.groupSize(), f + ".groups");
                    checkLength(r.headScores(), a.heads(), f + ".headScores");
                }
                case LayerSpec.Mlp m -> {
                    if (!(l instanceof Mlp r)) {
                        throw new IllegalArgumentException(f + ": kind is " + kind(l) + " but layer " + i + " is mlp");
                    }
                    checkPermutation(r.order(), m.width(), f + ".order");
                    checkLength(r.scores(), m.width(), f + ".scores");
                }
            }
        }
        int[] removal = depth.removalOrder();
        if (removal == null || depth.normalizedMse() == null || depth.protectedLayers() == null) {
            throw new IllegalArgumentException(at + "depth.removalOrder, depth.normalizedMse and depth.protectedLayers are required");
        }
        checkLength(depth.normalizedMse(), removal.length, at + "depth.normalizedMse");
        Set<Integer> seen = new HashSet<>();
        Set<Integer> prot = new HashSet<>();
        for (int p : depth.protectedLayers()) {
            checkIndex(p, arch.layers().size(), at + "depth.protectedLayers");
            prot.add(p);
        }
        for (int r : removal) {
            checkIndex(r, arch.layers().size(), at + "depth.removalOrder");
            if (!seen.add(r)) {
                throw new IllegalArgumentException(at + "depth.removalOrder lists layer " + r + " twice");
            }
            if (prot.contains(r)) {
                throw new IllegalArgumentException(at + "depth.removalOrder removes protected layer " + r);
            }
        }
        if (removal.length >= arch.layers().size()) {
            throw new IllegalArgumentException(at + "depth.removalOrder removes every layer");
        }
        return this;
    }

    static String kind(Layer l) {
        return switch (l) {
            case Mamba m -> "mamba";
            case Attention a -> "attention";
            case Mlp f -> "mlp";
        };
    }

    private static void checkGroups(int[][] groups, int count, int size, String field) {
        if (groups == null || groups.length != count) {
            throw new IllegalArgumentException(field + ": expected " + count + " groups, got "
                    + (groups == null ? "none" : groups.length));
        }
        for (int gi = 0; gi < count; gi++) {
            checkPermutation(groups[gi], size, field + "[" + gi + "]");
        }
    }

    static void checkPermutation(int[] order, int n, String field) {
        if (order == null) {
            throw new IllegalArgumentException(field + " is missing");
        }
        if (order.length != n) {
            throw new IllegalArgumentException(field + " has " + order.length + " entries, expected " + n);
        }
        boolean[] seen = new boolean[n];
        for (int v : order) {
            if (v < 0 || v >= n) {
                throw new IllegalArgumentException(field + ": index " + v + " outside 0.." + (n - 1));
            }
            if (seen[v]) {
                throw new IllegalArgumentException(field + ": index " + v + " appears twice (not a permutation)");
            }
            seen[v] = true;
        }
    }

    private static void checkLength(double[] v, int n, String field) {
        if (v == null || v.length != n) {
            throw new IllegalArgumentException(field + " has " + (v == null ? "no" : String.valueOf(v.length))
                    + " entries, expected " + n);
        }
    }

    private static void checkIndex(int i, int n, String field) {
        if (i < 0 || i >= n) {
            throw new IllegalArgumentException(field + ": layer " + i + " outside 0.." + (n - 1));
        }
    }

    // ---- small array helpers ------------------------------------------------------------------------------

    static int[] identity(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        return p;
    }

    private static int[][] identityGroups(int count, int size) {
        int[][] g = new int[count][];
        for (int i = 0; i < count; i++) {
            g[i] = identity(size);
        }
        return g;
    }

    private static int[][] identityGroups(int[][] like) {
        return identityGroups(like.length, like.length == 0 ? 0 : like[0].length);
    }

    private static boolean isIdentity(int[] p) {
        for (int i = 0; i < p.length; i++) {
            if (p[i] != i) {
                return false;
            }
        }
        return true;
    }

    /** {@code out[i] = v[order[i]]}. */
    static double[] gather(double[] v, int[] order) {
        double[] out = new double[order.length];
        for (int i = 0; i < order.length; i++) {
            out[i] = v[order[i]];
        }
        return out;
    }

    /** Indices sorted by decreasing score; ties keep the lower index first (stable, so reruns agree). */
    static int[] argsortDescending(double[] scores) {
        Integer[] idx = new Integer[scores.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> {
            int c = Double.compare(scores[b], scores[a]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        return Arrays.stream(idx).mapToInt(Integer::intValue).toArray();
    }
}
