package org.nestlm.sizes;

import org.nestlm.elastic.Router;
import java.util.EnumMap;
import java.util.Map;

/**
 * The router's noise-free distribution ({@link Router}: {@code z = W2 · LeakyReLU_0.1(W1 · u)}, log-softmax over
 * each axis's choices), evaluated in plain Java from the weights stored in elastic.json. Resolving a budget at
 * inference time needs nothing else, so serving, the library API and the CLI's inference commands never load
 * libtorch for it. Arithmetic in double; equals {@link Router}'s fp32 result up to rounding. Immutable, thread-safe.
 */
public final class RouterInference {

    private final ElasticSpace space;
    private final int budgets, width;
    private final Map<Router.Axis, float[][]> weights = new EnumMap<>(Router.Axis.class);   // {W1 [width·budgets], W2 [out·width]}

    /**
     * @param state the router's weights by name ({@link Router#state()}), W1 {@code [width, budgets]} and W2
     *              {@code [groups·choices, width]} of every axis, row-major
     * @throws IllegalArgumentException naming a missing or misshapen weight
     */
    public RouterInference(ElasticSpace space, int budgets, int width, Map<String, float[]> state) {
        this.space = space;
        this.budgets = budgets;
        this.width = width;
        for (Router.Axis a : Router.Axis.values()) {
            int out = space.groups(a) * space.choices(a);
            weights.put(a, new float[][] {
                    weight(state, "router." + Router.name(a) + ".w1", width * budgets),
                    weight(state, "router." + Router.name(a) + ".w2", out * width)});
        }
    }

    private static float[] weight(Map<String, float[]> state, String name, int size) {
        float[] v = state.get(name);
        if (v == null || v.length != size) {
            throw new IllegalArgumentException("router state has no (or a misshapen) '" + name + "'");
        }
        return v;
    }

    /** As {@link Router#resolve}: the most likely sub-model for input u within {@code tolerance} of {@code target}. */
    public ElasticSpace.Choice resolve(float[] u, long target, double tolerance) {
        return Resolution.resolve(space, logProbs(u), target, tolerance);
    }

    /** Log-softmax of every axis for input u [budgets]: [axis][group][choice]. */
    public double[][][] logProbs(float[] u) {
        if (u.length != budgets) {
            throw new IllegalArgumentException("router input has " + u.length + " entries, the router " + budgets);
        }
        double[][][] out = new double[Router.Axis.values().length][][];
        for (Router.Axis a : Router.Axis.values()) {
            float[] w1 = weights.get(a)[0], w2 = weights.get(a)[1];
            double[] h = new double[width];
            for (int i = 0; i < width; i++) {
                double s = 0;
                for (int j = 0; j < budgets; j++) {
                    s += (double) w1[i * budgets + j] * u[j];
                }
                h[i] = s >= 0 ? s : Router.LEAKY_SLOPE * s;
            }
            int g = space.groups(a), c = space.choices(a);
            double[][] lp = new double[g][c];
            for (int r = 0; r < g; r++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < c; k++) {
                    int row = (r * c + k) * width;
                    double z = 0;
                    for (int i = 0; i < width; i++) {
                        z += w2[row + i] * h[i];
                    }
                    lp[r][k] = z;
                    max = Math.max(max, z);
                }
                double sum = 0;
                for (int k = 0; k < c; k++) {
                    sum += Math.exp(lp[r][k] - max);
                }
                double lse = max + Math.log(sum);
                for (int k = 0; k < c; k++) {
                    lp[r][k] -= lse;
                }
            }
            out[a.ordinal()] = lp;
        }
        return out;
    }
}
