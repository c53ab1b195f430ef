package org.nestlm.elastic;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.nestlm.model.Architecture;
import org.nestlm.model.LayerKind;
import org.nestlm.model.LayerSpec;
import org.nestlm.model.Masks;
import org.nestlm.model.Tensors;
import org.nestlm.sizes.Axis;
import org.nestlm.sizes.ElasticSpace;
import org.nestlm.sizes.Subnet;

import java.util.Arrays;
import java.util.List;

/**
 * The masks of the masked forward pass over the full weights (docs/METHOD.md §4.4, §6), built in one place for
 * validation and for training. A sub-model's <b>hard</b> masks are 0/1 over the full model's residual channels, MLP
 * neurons, Mamba heads and channels and query heads, with dropped layers skipped: the forward pass is exactly the
 * sliced sub-model's. A router sample's <b>straight-through</b> masks are the hard masks of the sample's sub-model
 * times each axis's factor (forward value exactly 1, gradient of the chosen probability), plus the depth factor on
 * every kept rankable layer, so that the task loss reaches the router.
 *
 * <p>Hard masks leave out the masks a sub-model does not need (a layer kept whole, the full residual width): a mask
 * of ones multiplies by exactly 1 and would only cost time. Straight-through masks carry every factor.
 */
public final class SubnetMasks {

    private SubnetMasks() {
    }

    /** Hard 0/1 masks of {@code sub} over the weights of {@code full}. */
    public static Masks hard(NDManager m, Architecture full, Subnet sub) {
        return build(m, full, sub, null, null);
    }

    /** Straight-through masks of router sample {@code s} over the full model of {@code space}. */
    public static Masks straightThrough(NDManager m, ElasticSpace space, RouterSample s) {
        return build(m, space.full(), space.subnet(s.choice()), space, s);
    }

    /** One builder: hard masks when {@code sample} is null, else straight-through ones. */
    private static Masks build(NDManager m, Architecture full, Subnet sub, ElasticSpace space, RouterSample sample) {
        boolean hard = sample == null;
        Masks.Builder b = Masks.builder(full.layers().size());
        NDArray fHidden = hard ? null : sample.factors().get(Axis.HIDDEN).get(0);
        if (!hard || sub.hiddenSize() < full.hiddenSize()) {
            b.hidden(scaled(prefix(m, full.hiddenSize(), sub.hiddenSize()), fHidden));
        }
        NDArray fDepth = hard ? null : sample.factors().get(Axis.DEPTH).get(0);
        NDArray fMamba = hard ? null : sample.factors().get(Axis.MAMBA).get(0);
        NDArray fAttn = hard ? null : sample.factors().get(Axis.ATTENTION).get(0);
        List<Integer> mlpLayers = hard ? List.of() : space.layersOf(LayerKind.MLP);
        int groups = full.config().nGroups();
        for (int j = 0; j < full.layers().size(); j++) {
            if (!sub.kept().get(j)) {
                b.skip(j);
                continue;
            }
            LayerSpec f = full.layers().get(j), s = sub.layers().get(j);
            if (hard && s.equals(f)) {
                continue;
            }
            NDArray keep = !hard && space.removalOrder().contains(j) ? fDepth : null;   // depth gradient through rankable layers
            switch (f) {
                case LayerSpec.Mamba fm -> {
                    LayerSpec.Mamba sm = (LayerSpec.Mamba) s;
                    b.layer(j, scaled(indicator(m, fm.innerSize(), Subnet.mambaChannels(fm, sm, groups)), fMamba),
                            scaled(indicator(m, fm.heads(), Subnet.mambaHeads(fm, sm, groups)), fMamba), keep);
                }
                case LayerSpec.Attention fa -> b.layer(j, null,
                        scaled(indicator(m, fa.heads(), Subnet.attentionHeads(fa, (LayerSpec.Attention) s)), fAttn), keep);
                case LayerSpec.Mlp ff -> {
                    NDArray fMlp = hard ? null
                            : sample.factors().get(Axis.MLP).get(space.heterogeneousMlp() ? mlpLayers.indexOf(j) : 0);
                    b.layer(j, scaled(prefix(m, ff.width(), ((LayerSpec.Mlp) s).width()), fMlp), null, keep);
                }
            }
        }
        return b.build();
    }

    private static NDArray scaled(NDArray mask, NDArray factor) {
        return factor == null ? mask : mask.mul(factor);
    }

    /** [size]: ones on the first {@code keep} entries. */
    static NDArray prefix(NDManager m, int size, int keep) {
        float[] v = new float[size];
        Arrays.fill(v, 0, keep, 1f);
        return Tensors.of(m, v);
    }

    /** [size]: ones at {@code idx}. */
    static NDArray indicator(NDManager m, int size, int[] idx) {
        float[] v = new float[size];
        for (int i : idx) {
            v[i] = 1f;
        }
        return Tensors.of(m, v);
    }
}
