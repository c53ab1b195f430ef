package org.nestlm.elastic;

import org.nestlm.sizes.Axis;
import org.nestlm.sizes.Budget;
import org.nestlm.sizes.ElasticSpace;

import ai.djl.ndarray.NDArray;
import org.nestlm.model.Tensors;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.nestlm.model.Architecture;
import org.nestlm.model.LayerSpec;
import org.nestlm.model.ModelConfig;

import java.util.List;

/**
 * The router's cost function: the expected parameter count of the sub-model under the router's
 * probabilities π (docs/METHOD.md §6.3). Routers are independent given the budget, so for a layer
 * whose count is bilinear in the residual width and its own width, {@code E[P_j] = π_eᵀ · T_j · π_j},
 * with {@code T_j[a][b]} the exact count (docs/ARCHITECTURE.md §5, {@link LayerSpec#parameterCount}) at hidden candidate a
 * and layer candidate b — no second copy of the formula. Depth enters as each layer's keep probability.
 */
public final class ExpectedCost {

    private ExpectedCost() {
    }

    /** E[parameters] as a differentiable scalar. */
    public static NDArray expectedParameters(NDManager m, ElasticSpace space, RouterSample s) {
        Architecture full = space.full();
        ModelConfig c = full.config();
        int[] hidden = space.hidden();
        NDArray pe = s.probs().get(Axis.HIDDEN).reshape(1, hidden.length);          // [1, |E|]
        float[] nonLayer = new float[hidden.length];
        for (int a = 0; a < hidden.length; a++) {
            nonLayer[a] = Architecture.nonLayerParameterCount(c, hidden[a]);
        }
        NDArray total = pe.mul(Tensors.of(m, nonLayer)).sum();
        NDArray keep = keepProbabilities(m, space, s.probs().get(Axis.DEPTH));     // [layers]
        List<Integer> mlpLayers = space.layersOf(org.nestlm.model.LayerKind.MLP);
        for (int j = 0; j < full.layers().size(); j++) {
            LayerSpec f = full.layers().get(j);
            Axis axis;
            int group = 0;
            switch (f) {
                case LayerSpec.Mamba ignored -> axis = Axis.MAMBA;
                case LayerSpec.Attention ignored -> axis = Axis.ATTENTION;
                case LayerSpec.Mlp ignored -> {
                    axis = Axis.MLP;
                    group = space.heterogeneousMlp() ? mlpLayers.indexOf(j) : 0;
                }
            }
            NDArray pw = s.probs().get(axis).get(group);                                     // [choices]
            int choices = (int) pw.getShape().get(0);
            float[] table = new float[hidden.length * choices];
            for (int a = 0; a < hidden.length; a++) {
                for (int b = 0; b < choices; b++) {
                    table[a * choices + b] = layerAt(space, j, b).parameterCount(c, hidden[a]);
                }
            }
            NDArray t = Tensors.of(m, table, new Shape(hidden.length, choices));
            NDArray layer = pe.matMul(t).reshape(choices).mul(pw).sum();                       // π_eᵀ T π_w
            total = total.add(layer.mul(keep.get(j)));
        }
        return total;
    }

    /** Layer j's spec at candidate b of its own axis. */
    static LayerSpec layerAt(ElasticSpace space, int j, int b) {
        return switch (space.full().layers().get(j)) {
            case LayerSpec.Mamba m -> new LayerSpec.Mamba(space.mambaHeads(j, b), m.headDim());
            case LayerSpec.Attention a -> new LayerSpec.Attention(space.attentionHeads(j, b), a.kvHeads(), a.headDim());
            case LayerSpec.Mlp ignored -> new LayerSpec.Mlp(space.mlpWidth(j, b));
        };
    }

    /**
     * P(keep layer j): 1 for layers outside the removal order; for the layer at removal position r it is the
     * probability that fewer than r+1 layers are removed, {@code Σ_{i : removals_i ≤ r} π_depth[i]}.
     */
    static NDArray keepProbabilities(NDManager m, ElasticSpace space, NDArray depthProbs) {
        int n = space.full().layers().size();
        int[] removals = space.depthRemovals();
        float[] weights = new float[n * removals.length];   // [layers, choices]: 1 where choice i keeps layer j
        for (int j = 0; j < n; j++) {
            int r = space.removalOrder().indexOf(j);
            for (int i = 0; i < removals.length; i++) {
                weights[j * removals.length + i] = (r < 0 || removals[i] <= r) ? 1f : 0f;
            }
        }
        return Tensors.of(m, weights, new Shape(n, removals.length)).matMul(depthProbs.reshape(removals.length, 1)).reshape(n);
    }

    /**
     * Budget loss {@code max(0, |E[P] / target − 1| − tolerance)} (λ = 1; tolerance 0 by default, Megatron-LM
     * uses a 5 % dead zone).
     */
    public static NDArray budgetLoss(NDArray expectedParams, long target, double tolerance) {
        // float scalars: a double would promote the 0-d loss to float64
        NDArray rel = Tensors.sub(Tensors.div(expectedParams, (float) target), 1f).abs();
        return tolerance > 0 ? Tensors.maximum(Tensors.sub(rel, (float) tolerance), 0f) : rel;
    }
}
