package org.nestlm.elastic;

import org.nestlm.sizes.Axis;
import org.nestlm.sizes.ElasticSpace;

import ai.djl.ndarray.NDArray;

import java.util.Map;

/**
 * One draw of the router for every axis.
 *
 * @param probs   Gumbel-softmax probabilities π [groups, choices] per axis (carry the router's gradient)
 * @param chosen  argmax choice per group, per axis
 * @param factors straight-through factors [groups] per axis: forward value exactly 1, gradient of π_î
 */
public record RouterSample(Map<Axis, NDArray> probs, Map<Axis, int[]> chosen, Map<Axis, NDArray> factors) {

    /** The concrete sub-model choice of this sample. */
    public ElasticSpace.Choice choice() {
        return new ElasticSpace.Choice(chosen.get(Axis.HIDDEN)[0], chosen.get(Axis.MLP),
                chosen.get(Axis.MAMBA)[0], chosen.get(Axis.ATTENTION)[0], chosen.get(Axis.DEPTH)[0]);
    }

    /** True when every axis's probabilities are exactly one-hot (the Gumbel-softmax saturated in fp32). */
    public boolean saturated() {
        for (NDArray p : probs.values()) {
            for (float v : p.toFloatArray()) {
                if (v != 0f && v != 1f) {
                    return false;
                }
            }
        }
        return true;
    }
}
