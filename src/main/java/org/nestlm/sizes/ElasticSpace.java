package org.nestlm.sizes;

import org.nestlm.model.Architecture;
import org.nestlm.model.LayerKind;
import org.nestlm.model.LayerSpec;
import org.nestlm.model.ModelConfig;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The candidate sizes on every elastic axis of a (permuted) full model — what the router chooses among.
 * Every list is ordered largest first (index 0 = the full size, MLM's convention).
 *
 * <ul>
 *   <li>{@code hidden}: residual widths d_e (one global choice; "its channels are globally indexed");</li>
 *   <li>{@code mlpFractions}: MLP width as a fraction of each layer's full width (per layer in
 *       heterogeneous mode, one choice for all MLP layers otherwise);</li>
 *   <li>{@code mambaHeadsPerGroup}: heads kept in every group (group-aware: nh* = G·k); head channels fixed,
 *       as in Nano 4B and Megatron-LM;</li>
 *   <li>{@code attentionHeadsPerGroup}: query heads kept per KV group (by default only the full count: the
 *       axis is off, as in Nano 4B);</li>
 *   <li>{@code depthRemovals}: how many layers of {@code removalOrder} (least important first) are dropped.</li>
 * </ul>
 */
public record ElasticSpace(Architecture full, int[] hidden, double[] mlpFractions, int[] mambaHeadsPerGroup,
                           int[] attentionHeadsPerGroup, int[] depthRemovals, List<Integer> removalOrder,
                           boolean heterogeneousMlp) {

    public ElasticSpace {
        removalOrder = List.copyOf(removalOrder);
        check(hidden.length > 0 && hidden[0] == full.hiddenSize(), "hidden candidates must start with the full size");
        check(mlpFractions.length > 0 && mlpFractions[0] == 1.0, "MLP candidates must start with 1.0");
        check(mambaHeadsPerGroup.length > 0, "Mamba candidates are empty");
        check(attentionHeadsPerGroup.length > 0, "attention candidates are empty");
        check(depthRemovals.length > 0 && depthRemovals[0] == 0, "depth candidates must start with 0 removals");
        check(depthRemovals[depthRemovals.length - 1] <= removalOrder.size(), "more depth removals than ranked layers");
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /**
     * Default candidates: d_e in steps of H/16 (multiples of 8) down to H/4; MLP widths in steps of 1/16 down
     * to 1/4; every Mamba head count per group down to a quarter; attention heads fixed; up to a quarter of
     * the depth-rankable layers removable.
     */
    public static ElasticSpace defaults(Architecture full, List<Integer> removalOrder, boolean heterogeneousMlp) {
        int h = full.hiddenSize();
        int step = Math.max(8, (h / 16) / 8 * 8);
        List<Integer> hid = new ArrayList<>();
        for (int v = h; v >= Math.max(step, h / 4); v -= step) {
            hid.add(v);
        }
        double[] mlp = new double[13];
        for (int i = 0; i < mlp.length; i++) {
            mlp[i] = (16 - i) / 16.0;
        }
        ModelConfig c = full.config();
        int perGroup = maxMambaHeads(full) / c.nGroups();
        List<Integer> mamba = new ArrayList<>();
        for (int k = perGroup; k >= Math.max(1, (perGroup + 3) / 4); k--) {
            mamba.add(k);
        }
        int attn = maxAttentionHeadsPerGroup(full);
        int maxRemovals = Math.min(removalOrder.size(), full.layers().size() / 4);
        int[] depth = new int[maxRemovals + 1];
        for (int i = 0; i <= maxRemovals; i++) {
            depth[i] = i;
        }
        return new ElasticSpace(full, hid.stream().mapToInt(Integer::intValue).toArray(), mlp,
                mamba.stream().mapToInt(Integer::intValue).toArray(), new int[] {attn}, depth, removalOrder, heterogeneousMlp);
    }

    static int maxMambaHeads(Architecture a) {
        return a.layers().stream().filter(l -> l instanceof LayerSpec.Mamba).mapToInt(l -> ((LayerSpec.Mamba) l).heads()).max().orElse(0);
    }

    static int maxAttentionHeadsPerGroup(Architecture a) {
        return a.layers().stream().filter(l -> l instanceof LayerSpec.Attention)
                .mapToInt(l -> ((LayerSpec.Attention) l).groupSize()).max().orElse(1);
    }

    /** Layers of the given kind, in order (the per-layer outputs of a heterogeneous router). */
    public List<Integer> layersOf(LayerKind kind) {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < full.layers().size(); i++) {
            if (full.layers().get(i).kind() == kind) {
                idx.add(i);
            }
        }
        return idx;
    }

    /** Number of MLP router outputs per choice: one per MLP layer in heterogeneous mode, else one. */
    public int mlpGroups() {
        return heterogeneousMlp ? layersOf(LayerKind.MLP).size() : 1;
    }

    /** Candidates of router axis {@code a}. */
    public int choices(Axis a) {
        return switch (a) {
            case HIDDEN -> hidden.length;
            case MLP -> mlpFractions.length;
            case MAMBA -> mambaHeadsPerGroup.length;
            case ATTENTION -> attentionHeadsPerGroup.length;
            case DEPTH -> depthRemovals.length;
        };
    }

    /** Independent choices of router axis {@code a}: {@link #mlpGroups()} for the MLP axis, else one. */
    public int groups(Axis a) {
        return a == Axis.MLP ? mlpGroups() : 1;
    }

    /** MLP width of full-model layer {@code layer} at candidate {@code choice}. */
    public int mlpWidth(int layer, int choice) {
        int f = ((LayerSpec.Mlp) full.layers().get(layer)).width();
        return Math.max(1, (int) Math.round(f * mlpFractions[choice]));
    }

    /** Mamba heads (total) of layer {@code layer} at candidate {@code choice}. */
    public int mambaHeads(int layer, int choice) {
        int g = full.config().nGroups();
        int layerPerGroup = ((LayerSpec.Mamba) full.layers().get(layer)).heads() / g;
        return g * Math.min(layerPerGroup, mambaHeadsPerGroup[choice]);
    }

    /** Query heads (total) of attention layer {@code layer} at candidate {@code choice}. */
    public int attentionHeads(int layer, int choice) {
        LayerSpec.Attention a = (LayerSpec.Attention) full.layers().get(layer);
        return a.kvHeads() * Math.min(a.groupSize(), attentionHeadsPerGroup[choice]);
    }

    /** One concrete choice per axis: indices into the candidate lists ({@code mlp} has {@link #mlpGroups()} entries). */
    public record Choice(int hidden, int[] mlp, int mamba, int attention, int depth) {
        public static Choice full(int mlpGroups) {
            return new Choice(0, new int[mlpGroups], 0, 0, 0);
        }
    }

    /** The sub-model a choice describes. */
    public Subnet subnet(Choice c) {
        List<LayerSpec> layers = new ArrayList<>();
        List<Boolean> kept = new ArrayList<>();
        List<Integer> dropped = removalOrder.subList(0, depthRemovals[c.depth()]);
        int mlpIndex = 0;
        for (int i = 0; i < full.layers().size(); i++) {
            LayerSpec f = full.layers().get(i);
            layers.add(switch (f) {
                case LayerSpec.Mamba m -> new LayerSpec.Mamba(mambaHeads(i, c.mamba()), m.headDim());
                case LayerSpec.Attention a -> new LayerSpec.Attention(attentionHeads(i, c.attention()), a.kvHeads(), a.headDim());
                case LayerSpec.Mlp p -> new LayerSpec.Mlp(mlpWidth(i, c.mlp()[heterogeneousMlp ? mlpIndex++ : 0]));
            });
            kept.add(!dropped.contains(i));
        }
        return new Subnet(hidden[c.hidden()], layers, kept).validate(full);
    }

    @Override
    public String toString() {
        return "hidden " + Arrays.toString(hidden) + ", mlp " + Arrays.toString(mlpFractions) + (heterogeneousMlp ? " per layer" : "")
                + ", mamba heads/group " + Arrays.toString(mambaHeadsPerGroup) + ", attention heads/group "
                + Arrays.toString(attentionHeadsPerGroup) + ", depth removals " + Arrays.toString(depthRemovals)
                + " of " + removalOrder;
    }
}
