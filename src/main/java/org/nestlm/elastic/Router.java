package org.nestlm.elastic;

import org.nestlm.sizes.Axis;
import org.nestlm.sizes.ElasticSpace;
import org.nestlm.sizes.Resolution;
import org.nestlm.sizes.RouterInference;

import ai.djl.ndarray.NDArray;
import org.nestlm.model.Tensors;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import org.nestlm.model.Param;
import org.nestlm.train.AdamW;
import org.nestlm.train.OptimizerConfig;
import ai.djl.engine.Engine;
import ai.djl.training.GradientCollector;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * The learned router (docs/METHOD.md §6): for each elastic axis a small network maps the budget to a
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

    public static final int DEFAULT_WIDTH = 256;
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
                    param(RouterInference.w1(a), width, budgets, rng),
                    param(RouterInference.w2(a), out, width, rng)});
        }
    }

    private Param param(String name, int rows, int cols, Random rng) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rng.nextGaussian() * INIT_STD);
        }
        NDArray a = Tensors.of(manager, v, new Shape(rows, cols));
        a.setName(name);
        return new Param(name, a, false);
    }

    public int choices(Axis a) {
        return space.choices(a);
    }

    public int groups(Axis a) {
        return space.groups(a);
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
        NDArray in = Tensors.of(m, u, new Shape(1, budgets));
        Param[] w = weights.get(a);
        NDArray h = Activation.leakyRelu(Linear.linear(in, w[0].value()).singletonOrThrow(), RouterInference.LEAKY_SLOPE);
        return Linear.linear(h, w[1].value()).singletonOrThrow().reshape(groups(a), choices(a));
    }

    /**
     * One Gumbel-softmax sample for every axis.
     *
     * @param tau   temperature τ (annealed 1 → 0.05)
     * @param scale logit scale s (raised 1 → 10)
     */
    public RouterSample sample(NDManager m, float[] u, double tau, double scale, SplittableRandom rng) {
        return sample(m, u, tau, scale, rng, 0, 0);
    }

    /**
     * A sample whose concrete sub-model is projected onto the budget: when the Gumbel draw's per-axis argmax is
     * more than {@code tolerance} away from {@code target} parameters, the most likely configuration of the same
     * noisy distribution within the tolerance is used instead ({@link Resolution}). Every sub-model trained then
     * meets its budget, as the deployed ones do; the budget loss still trains the router's expected size.
     */
    public RouterSample sample(NDManager m, float[] u, double tau, double scale, SplittableRandom rng, long target,
                               double tolerance) {
        Map<Axis, NDArray> probs = new EnumMap<>(Axis.class);
        Map<Axis, NDArray> logProbs = new EnumMap<>(Axis.class);
        Map<Axis, int[]> chosen = new EnumMap<>(Axis.class);
        Map<Axis, NDArray> factors = new EnumMap<>(Axis.class);
        double[][][] logp = new double[Axis.values().length][][];
        for (Axis a : Axis.values()) {
            int g = groups(a), c = choices(a);
            float[] noise = new float[g * c];   // rng == null: no noise, the router's own distribution
            for (int i = 0; rng != null && i < noise.length; i++) {
                double un = Math.min(1 - 1e-7, Math.max(1e-10, rng.nextDouble()));
                noise[i] = (float) -Math.log(-Math.log(un));
            }
            NDArray z = Tensors.mul(logits(m, a, u), (float) scale).add(Tensors.of(m, noise, new Shape(g, c)));
            NDArray logPi = Tensors.div(z, (float) tau).logSoftmax(-1);                                   // [g, c]
            NDArray pi = logPi.exp();
            float[] lp = logPi.toFloatArray();                                                   // log π, finite where π underflows
            int[] idx = new int[g];
            logp[a.ordinal()] = new double[g][c];
            for (int r = 0; r < g; r++) {
                for (int j = 0; j < c; j++) {
                    logp[a.ordinal()][r][j] = lp[r * c + j];
                    if (lp[r * c + j] > lp[r * c + idx[r]]) {
                        idx[r] = j;
                    }
                }
            }
            probs.put(a, pi);
            logProbs.put(a, logPi);
            chosen.put(a, idx);
        }
        if (target > 0 && tolerance > 0) {
            ElasticSpace.Choice c = Resolution.resolve(space, logp, target, tolerance);
            chosen.put(Axis.HIDDEN, new int[] {c.hidden()});
            chosen.put(Axis.MLP, c.mlp());
            chosen.put(Axis.MAMBA, new int[] {c.mamba()});
            chosen.put(Axis.ATTENTION, new int[] {c.attention()});
            chosen.put(Axis.DEPTH, new int[] {c.depth()});
        }
        for (Axis a : Axis.values()) {
            int[] idx = chosen.get(a);
            NDArray picked = logProbs.get(a).gather(Tensors.of(m, toLong(idx), new Shape(idx.length, 1)), 1).reshape(idx.length); // log π_î
            // straight-through in log space: exp(log π_î − log π_î held) is exactly 1 in the forward pass, and its
            // gradient with respect to the logits is δ − π, as for the ratio π_î / π_î held, but through log-softmax's
            // backward instead of a division by π_î (the ratio divides by probabilities down to 1e-12, which next to
            // the budget loss's gradient through a near-saturated softmax gives inf/NaN router gradients; docs/METHOD.md
            // §6.4). A projected choice the router gives less than 1e-12 still carries no
            // gradient: its factor is the constant 1, so improbable projections do not pull the router.
            NDArray held = picked.stopGradient();
            NDArray factor = NDArrays.where(Tensors.gt(held, (float) Math.log(1e-12)), picked.sub(held).exp(), m.ones(held.getShape()));
            factors.put(a, factor);
        }
        return new RouterSample(probs, chosen, factors);
    }

    /** Steps and learning rate of {@link #fit} (it checks that every anchor became the argmax). */
    static final int FIT_STEPS = 300;
    static final double FIT_LR = 1e-2;

    /**
     * Fits the router to fixed choices (the searched routing, docs/METHOD.md §6.6): cross-entropy of every axis's
     * noise-free softmax at the one-hot input of budget b against {@code anchors.get(b)}, summed over budgets and
     * axes, {@value #FIT_STEPS} steps of Adam at {@value #FIT_LR}. Afterwards the per-axis argmax at each trained
     * budget is its anchor; interpolated inputs blend the anchors' preferences of their two neighbours.
     *
     * @throws IllegalStateException if an anchor is still not the argmax (it cannot be, short of a bug)
     */
    public void fit(List<ElasticSpace.Choice> anchors) {
        if (anchors.size() != budgets) {
            throw new IllegalArgumentException(anchors.size() + " anchors for " + budgets + " budgets");
        }
        try (NDManager scope = manager.newSubManager();
             AdamW opt = new AdamW(params(), scope, new OptimizerConfig(0.9, 0.999, 0.0, 0.0))) {
            for (int step = 0; step < FIT_STEPS; step++) {
                try (NDManager m = scope.newSubManager();
                     GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray loss = null;
                    for (int b = 0; b < budgets; b++) {
                        int[][] target = indices(anchors.get(b));
                        for (Axis a : Axis.values()) {
                            int[] idx = target[a.ordinal()];
                            NDArray lp = logits(m, a, oneHot(b)).logSoftmax(-1)
                                    .gather(Tensors.of(m, toLong(idx), new Shape(idx.length, 1)), 1).sum();
                            loss = loss == null ? lp.neg() : loss.sub(lp);
                        }
                    }
                    gc.backward(loss);
                }
                opt.step(FIT_LR, 0);
            }
        }
        for (int b = 0; b < budgets; b++) {
            ElasticSpace.Choice got = argmax(oneHot(b)), want = anchors.get(b);
            if (!java.util.Arrays.deepEquals(indices(got), indices(want))) {
                throw new IllegalStateException("router fit: budget " + b + " resolves to " + got + ", not its anchor " + want);
            }
        }
    }

    /** A choice as [axis][group] indices (ordinal order of {@link Axis}). */
    static int[][] indices(ElasticSpace.Choice c) {
        return new int[][] {{c.hidden()}, c.mlp(), {c.mamba()}, {c.attention()}, {c.depth()}};
    }

    /** The router's deterministic choice for input u: per-axis argmax of the logits, no noise. */
    public ElasticSpace.Choice argmax(float[] u) {
        return Resolution.argmax(space, logProbs(u));
    }

    /**
     * The router's most likely sub-model for input u whose size is within {@code tolerance} of {@code target}
     * (the argmax itself when it is); see {@link Resolution}.
     */
    public ElasticSpace.Choice resolve(float[] u, long target, double tolerance) {
        return Resolution.resolve(space, logProbs(u), target, tolerance);
    }

    /** The router's {@code k} most likely sub-models for input u within {@code tolerance} of {@code target}. */
    public List<ElasticSpace.Choice> candidates(float[] u, long target, double tolerance, int k) {
        return Resolution.candidates(space, logProbs(u), target, tolerance, k);
    }

    /** Noise-free log-softmax of every axis: [axis][group][choice]. */
    double[][][] logProbs(float[] u) {
        try (NDManager m = manager.newSubManager()) {
            double[][][] out = new double[Axis.values().length][][];
            for (Axis a : Axis.values()) {
                float[] lp = logits(m, a, u).logSoftmax(-1).toFloatArray();
                int g = groups(a), c = choices(a);
                out[a.ordinal()] = new double[g][c];
                for (int r = 0; r < g; r++) {
                    for (int j = 0; j < c; j++) {
                        out[a.ordinal()][r][j] = lp[r * c + j];
                    }
                }
            }
            return out;
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
            Tensors.assign(p.value(), v);
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
