package org.nestlm.elastic;

import org.nestlm.sizes.ElasticSpace;
import org.nestlm.sizes.Subnet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.nestlm.model.LayerKind;
import org.nestlm.model.LayerSpec;
import org.nestlm.model.Masks;

import java.util.List;

/**
 * Turns a router sample into the masks of the masked forward pass: the chosen sub-model's hard 0/1
 * masks ({@link Subnet#masks}) times each axis's straight-through factor, so that the forward pass is
 * exactly the sub-model's and the task loss still reaches the router.
 */
public final class RouterMasks {

    private RouterMasks() {
    }

    public static Masks of(NDManager m, ElasticSpace space, RouterSample s) {
        Subnet sub = space.subnet(s.choice());
        var full = space.full();
        Masks.Builder b = Masks.builder(full.layers().size());
        NDArray fHidden = s.factors().get(Router.Axis.HIDDEN).get(0);
        b.hidden(Subnet.prefix(m, full.hiddenSize(), sub.hiddenSize()).mul(fHidden));
        NDArray fDepth = s.factors().get(Router.Axis.DEPTH).get(0);
        NDArray fMamba = s.factors().get(Router.Axis.MAMBA).get(0);
        NDArray fAttn = s.factors().get(Router.Axis.ATTENTION).get(0);
        List<Integer> mlpLayers = space.layersOf(LayerKind.MLP);
        int groups = full.config().nGroups();
        for (int j = 0; j < full.layers().size(); j++) {
            if (!sub.kept().get(j)) {
                b.skip(j);
                continue;
            }
            NDArray keep = space.removalOrder().contains(j) ? fDepth : null;   // depth gradient through rankable layers
            switch (full.layers().get(j)) {
                case LayerSpec.Mamba fm -> {
                    LayerSpec.Mamba sm = (LayerSpec.Mamba) sub.layers().get(j);
                    b.layer(j, Subnet.indicator(m, fm.innerSize(), Subnet.mambaChannels(fm, sm, groups)).mul(fMamba),
                            Subnet.indicator(m, fm.heads(), Subnet.mambaHeads(fm, sm, groups)).mul(fMamba), keep);
                }
                case LayerSpec.Attention fa -> b.layer(j, null, Subnet.indicator(m, fa.heads(),
                        Subnet.attentionHeads(fa, (LayerSpec.Attention) sub.layers().get(j))).mul(fAttn), keep);
                case LayerSpec.Mlp ff -> {
                    int g = space.heterogeneousMlp() ? mlpLayers.indexOf(j) : 0;
                    NDArray f = s.factors().get(Router.Axis.MLP).get(g);
                    b.layer(j, Subnet.prefix(m, ff.width(), ((LayerSpec.Mlp) sub.layers().get(j)).width()).mul(f), null, keep);
                }
            }
        }
        return b.build();
    }
}
