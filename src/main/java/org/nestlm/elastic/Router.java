package org.nestlm.elastic;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import org.nestlm.model.Param;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * The learned router (ELASTIC_METHOD.md §4): for each elastic axis a small network maps the budget to a
 * categorical over that axis's candidates,
 * <pre>
 *   z = W2 · LeakyReLU_0.1(W1 · u),   u = one-hot budget (interpolated for untrained budgets)
 * </pre>
 * with {@code W1 [width, budgets]}, {@code W2 [groups·choices, width]}, bias-free, N(0, 0.1) initialised.
 * {@code groups} is the number of MLP layers for a heterogeneous MLP axis, 1 otherwise. Sampling is
 * Gumbel-softmax {@code π = softmax((s·z + g)/τ)}; the choice is its argmax, applied as a straight-through
 * hard mask whose forward value is exactly 0 or 1 ({@code π_î / stopgrad(π_î) · prefix_î}).
 */
public final class Router implements AutoCloseable {

    /** The elastic axes. */
    public enum Axis { HIDDEN, MLP, MAMBA, ATTENTION, DEPTH }

    public static final int DEFAULT_WIDTH = 256;
    static final float LEAKY_SLOPE = 0.1f;
    static final double INIT_STD = 0.1;

    private final ElasticSpace space;
    private final int budgets;
    private final NDManager manager;
    private final Map<Axis, Param[]> weights = new EnumMap<>(Axis.class);   // per axis {W1 [width, budgets], W2 [groups·choices, width]}

    public Router(ElasticSpace space, int budgets, int width, NDManager parent, long seed) {
        this.space = space;
        this.budgets = budgets;
        this.manager = parent.newSubManager();
        Random rng = new Random(seed);
        for (Axis a : Axis.values()) {
            int out = groups(a) * choices(a);
            weights.put(a, new Param[] {
                    param("router." + name(a) + ".w1", width, budgets, rng),
                    param("router." + name(a) + ".w2", out, width, rng)});
        }
    }

    private Param param(String name, int rows, int cols, Random rng) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rng.nextGaussian() * INIT_STD);
        }
        NDArray a = manager.create(v, new Shape(rows, cols));
        a.setName(name);
        return new Param(name, a, false);
    }

    public static String name(Axis a) {
        return a.name().toLowerCase();
    }

    public int choices(Axis a) {
        return switch (a) {
            case HIDDEN -> space.hidden().length;
            case MLP -> space.mlpFractions().length;
            case MAMBA -> space.mambaHeadsPerGroup().length;
            case ATTENTION -> space.attentionHeadsPerGroup().length;
            case DEPTH -> space.depthRemovals().length;
        };
    }

    public int groups(Axis a) {
        return a == Axis.MLP ? space.mlpGroups() : 1;
    }

    public ElasticSpace space() {
        return space;
    }

    public int budgets() {
        return budgets;
    }

    /** Router weights, for the optimizer (no weight decay) and checkpoints. */
    public List<Param> params() {
        List<Param> all = new ArrayList<>();
        weights.values().forEach(p -> all.addAll(List.of(p)));
        return all;
    }

    /** The router input for trained budget {@code index}: a one-hot vector. */
    public float[] oneHot(int index) {
        float[] u = new float[budgets];
        u[index] = 1f;
        return u;
    }

    /** Logits z [groups, choices] of one axis for input u [budgets], in {@code m}. */
    NDArray logits(NDManager m, Axis a, float[] u) {
        NDArray in = m.create(u, new Shape(1, budgets));
        Param[] w = weights.get(a);
        NDArray h = Activation.leakyRelu(Linear.linear(in, w[0].value()).singletonOrThrow(), LEAKY_SLOPE);
        return Linear.linear(h, w[1].value()).singletonOrThrow().reshape(groups(a), choices(a));
    }

    /**
     * One Gumbel-softmax sample for every axis.
     *
     * @param tau   temperature τ (annealed 1 → 0.05)
     * @param scale logit scale s (raised 1 → 10)
     */
    public RouterSample sample(NDManager m, float[] u, double tau, double scale, SplittableRandom rng) {
        Map<Axis, NDArray> probs = new EnumMap<>(Axis.class);
        Map<Axis, int[]> chosen = new EnumMap<>(Axis.class);
        Map<Axis, NDArray> factors = new EnumMap<>(Axis.class);
        for (Axis a : Axis.values()) {
            int g = groups(a), c = choices(a);
            float[] noise = new float[g * c];
            for (int i = 0; i < noise.length; i++) {
                double un = Math.max(1e-10, rng.nextDouble());
                noise[i] = (float) -Math.log(-Math.log(un));
            }
            NDArray z = logits(m, a, u).mul(scale).add(m.create(noise, new Shape(g, c)));
            NDArray pi = z.div(tau).softmax(-1);                                         // [g, c]
            float[] p = pi.toFloatArray();
            int[] idx = new int[g];
            for (int r = 0; r < g; r++) {
                for (int j = 1; j < c; j++) {
                    if (p[r * c + j] > p[r * c + idx[r]]) {
                        idx[r] = j;
                    }
                }
            }
            NDArray picked = pi.gather(m.create(toLong(idx), new Shape(g, 1)), 1).reshape(g);   // π_î per group
            probs.put(a, pi);
            chosen.put(a, idx);
            factors.put(a, picked.div(picked.stopGradient()));                                 // exactly 1, gradient of π_î
        }
        return new RouterSample(probs, chosen, factors);
    }

    /** The router's deterministic choice for input u: argmax of the logits, no noise (deployment, slicing). */
    public ElasticSpace.Choice argmax(float[] u) {
        try (NDManager m = manager.newSubManager()) {
            int[][] idx = new int[Axis.values().length][];
            for (Axis a : Axis.values()) {
                float[] z = logits(m, a, u).toFloatArray();
                int g = groups(a), c = choices(a);
                idx[a.ordinal()] = new int[g];
                for (int r = 0; r < g; r++) {
                    for (int j = 1; j < c; j++) {
                        if (z[r * c + j] > z[r * c + idx[a.ordinal()][r]]) {
                            idx[a.ordinal()][r] = j;
                        }
                    }
                }
            }
            return new ElasticSpace.Choice(idx[0][0], idx[1], idx[2][0], idx[3][0], idx[4][0]);
        }
    }

    /** The weights by name, for elastic.json. */
    public Map<String, float[]> state() {
        Map<String, float[]> s = new java.util.LinkedHashMap<>();
        for (Param p : params()) {
            s.put(p.name(), p.value().toFloatArray());
        }
        return s;
    }

    /** Restores weights saved by {@link #state()}. */
    public void load(Map<String, float[]> state) {
        for (Param p : params()) {
            float[] v = state.get(p.name());
            if (v == null || v.length != p.numel()) {
                throw new IllegalArgumentException("router state has no (or a misshapen) '" + p.name() + "'");
            }
            p.value().set(v);
        }
    }

    static long[] toLong(int[] v) {
        long[] r = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = v[i];
        }
        return r;
    }

    @Override
    public void close() {
        manager.close();
    }

}
