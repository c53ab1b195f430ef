package org.nestlm.sizes;

import java.util.EnumMap;
import java.util.Map;

/**
 * The router's forward pass in plain Java (docs/METHOD.md §6): per axis {@code z = W2 · LeakyReLU_0.1(W1 · u)}, then
 * the log-softmax over the axis's choices, noise-free, from the weights stored beside elastic.json. The training
 * router ({@code org.nestlm.elastic.Router}, on DJL) is the same network with Gumbel noise added for sampling.
 * Resolving a budget needs nothing else, so serving, slicing, the library API and the CLI's inference commands never
 * load libtorch. Arithmetic in double; it picks the same sub-models as the training router (RouterInferenceTest).
 * Immutable, thread-safe.
 */
public final class RouterInference {

    /** Negative slope of the LeakyReLU between the router's two layers. */
    public static final float LEAKY_SLOPE = 0.1f;

    private final ElasticSpace space;
    private final int budgets, width;
    private final Map<Axis, float[][]> weights = new EnumMap<>(Axis.class);   // {W1 [width·budgets], W2 [out·width]}

    /**
     * @param state the router's weights by name (the training router's {@code state()}), W1 {@code [width, budgets]} and W2
     *              {@code [groups·choices, width]} of every axis, row-major
     * @throws IllegalArgumentException naming a missing or misshapen weight
     */
    public RouterInference(ElasticSpace space, int budgets, int width, Map<String, float[]> state) {
        this.space = space;
        this.budgets = budgets;
        this.width = width;
        for (Axis a : Axis.values()) {
            int out = space.groups(a) * space.choices(a);
            weights.put(a, new float[][] {
                    weight(state, w1(a), width * budgets),
                    weight(state, w2(a), out * width)});
        }
    }

    /** Name of axis {@code a}'s first layer, W1 {@code [width, budgets]}. */
    public static String w1(Axis a) {
        return "router." + a.key() + ".w1";
    }

    /** Name of axis {@code a}'s second layer, W2 {@code [groups·choices, width]}. */
    public static String w2(Axis a) {
        return "router." + a.key() + ".w2";
    }

    private static float[] weight(Map<String, float[]> state, String name, int size) {
        float[] v = state.get(name);
        if (v == null || v.length != size) {
            throw new IllegalArgumentException("router state has no (or a misshapen) '" + name + "'");
        }
        return v;
    }

    /** As the training router's {@code resolve}: the most likely sub-model for input u within {@code tolerance} of {@code target}. */
    public ElasticSpace.Choice resolve(float[] u, long target, double tolerance) {
        return Resolution.resolve(space, logProbs(u), target, tolerance);
    }

    /** Log-softmax of every axis for input u [budgets]: [axis][group][choice]. */
    public double[][][] logProbs(float[] u) {
        if (u.length != budgets) {
            throw new IllegalArgumentException("router input has " + u.length + " entries, the router " + budgets);
        }
        double[][][] out = new double[Axis.values().length][][];
        for (Axis a : Axis.values()) {
            float[] w1 = weights.get(a)[0], w2 = weights.get(a)[1];
            double[] h = new double[width];
            for (int i = 0; i < width; i++) {
                double s = 0;
                for (int j = 0; j < budgets; j++) {
                    s += (double) w1[i * budgets + j] * u[j];
                }
                h[i] = s >= 0 ? s : LEAKY_SLOPE * s;
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
