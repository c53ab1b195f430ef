package org.nestlm.elastic;

import ai.djl.ndarray.NDArray;
import org.nestlm.model.Tensors;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.nestlm.model.LayerKind;
import org.nestlm.model.LayerSpec;
import org.nestlm.model.Masks;
import org.nestlm.model.NemotronH;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Depth importance by iterative normalized MSE on the logits (docs/METHOD.md §2.4): in every
 * round each remaining candidate layer j is bypassed together with the layers S already removed, and scored by
 * {@code Σ_{B,L,V} (M_full − M_{−(S∪j)})² / Σ_{B,L,V} M_full²} against the <b>original full</b> model's logits;
 * the lowest-scoring candidate is removed for good. The result is a removal order, least important first.
 *
 * <p>Cost: {@code O(N²)} forward passes over the depth samples; the full model's logits [b, L, V] of every batch
 * stay in memory for the whole search, which is why it uses only a few batches.
 */
public final class DepthImportance {

    private DepthImportance() {
    }

    /**
     * Which layers may be removed.
     *
     * @param protectAttention attention layers are never candidates
     * @param minAttention     without protection: attention layers are candidates while more than this many remain
     * @param maxRemovals      stop after this many removals (−1: until no candidate is left; one layer always stays)
     */
    public record Options(boolean protectAttention, int minAttention, int maxRemovals) {

        public Options {
            if (minAttention < 0) {
                throw new IllegalArgumentException("minimum attention layers must be ≥ 0, got " + minAttention);
            }
        }

        /** docs/METHOD.md §2.4: attention layers are never dropped. */
        public static Options attentionProtected() {
            return new Options(true, 0, -1);
        }

        /** Attention layers may be dropped while at least {@code n} remain. */
        public static Options minAttention(int n) {
            return new Options(false, n, -1);
        }

        public Options withMaxRemovals(int max) {
            return new Options(protectAttention, minAttention, max);
        }
    }

    /** Progress of the search (for a progress bar). */
    public interface Listener {
        /** Called once: the number of candidate evaluations planned (an upper bound). */
        void start(long evaluations);

        /** After each candidate evaluation. */
        void evaluated(int round, int layer, double mse);

        /** After each round, with the layer removed for good. */
        default void removed(int round, int layer, double mse) {
        }

        Listener NONE = new Listener() {
            public void start(long evaluations) {
            }

            public void evaluated(int round, int layer, double mse) {
            }
        };
    }

    /**
     * The greedy removal order.
     *
     * @param samples   calibration sequences of equal length
     * @param batchSize sequences per forward pass
     */
    public static Rankings.Depth estimate(NemotronH model, List<long[]> samples, int batchSize, Options options,
                                          Listener listener) {
        List<LayerSpec> layers = model.architecture().layers();
        int n = layers.size();
        List<Integer> protectedLayers = new ArrayList<>();
        int attention = 0;
        for (int i = 0; i < n; i++) {
            if (layers.get(i).kind() == LayerKind.ATTENTION) {
                attention++;
                if (options.protectAttention()) {
                    protectedLayers.add(i);
                }
            }
        }
        int candidates0 = n - protectedLayers.size();
        int rounds = Math.min(candidates0, n - 1);
        if (options.maxRemovals() >= 0) {
            rounds = Math.min(rounds, options.maxRemovals());
        }
        long planned = 0;
        for (int r = 0; r < rounds; r++) {
            planned += candidates0 - r;
        }
        listener.start(planned);

        try (NDManager base = NDManager.newBaseManager(); Reference ref = Reference.of(model, samples, batchSize, base)) {
            Set<Integer> removed = new LinkedHashSet<>();
            List<Double> mses = new ArrayList<>();
            int attentionLeft = attention;
            for (int round = 0; round < rounds; round++) {
                int best = -1;
                double bestMse = Double.POSITIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    if (removed.contains(j)) {
                        continue;
                    }
                    if (layers.get(j).kind() == LayerKind.ATTENTION
                            && (options.protectAttention() || attentionLeft <= options.minAttention())) {
                        continue;
                    }
                    Set<Integer> trial = new LinkedHashSet<>(removed);
                    trial.add(j);
                    double mse = ref.normalizedMse(model, trial);
                    listener.evaluated(round, j, mse);
                    if (mse < bestMse) {       // strict: ties go to the lower layer index
                        bestMse = mse;
                        best = j;
                    }
                }
                if (best < 0) {
                    break;                     // only protected layers are left
                }
                removed.add(best);
                mses.add(bestMse);
                if (layers.get(best).kind() == LayerKind.ATTENTION) {
                    attentionLeft--;
                }
                listener.removed(round, best, bestMse);
            }
            return new Rankings.Depth(removed.stream().mapToInt(Integer::intValue).toArray(),
                    mses.stream().mapToDouble(Double::doubleValue).toArray(),
                    protectedLayers.stream().mapToInt(Integer::intValue).toArray(),
                    options.protectAttention() ? -1 : options.minAttention());
        }
    }

    /**
     * The full model's logits on the depth samples, kept for the whole search, and the normalized MSE of any
     * set of bypassed layers against them.
     */
    static final class Reference implements AutoCloseable {
        private final NDManager manager;
        private final List<long[]> batches = new ArrayList<>();   // ids per batch, flattened [b·L]
        private final List<Shape> shapes = new ArrayList<>();
        private final List<NDArray> logits = new ArrayList<>();   // [b, L, V] per batch, in manager
        private final double sumSquares;                           // Σ M_full²

        private Reference(NDManager manager, NemotronH model, List<long[]> samples, int batchSize) {
            this.manager = manager;
            if (samples.isEmpty()) {
                throw new IllegalArgumentException("the depth search needs at least one calibration sample");
            }
            int len = samples.get(0).length;
            double sq = 0;
            for (int first = 0; first < samples.size(); first += batchSize) {
                int b = Math.min(batchSize, samples.size() - first);
                long[] ids = new long[b * len];
                for (int s = 0; s < b; s++) {
                    System.arraycopy(samples.get(first + s), 0, ids, s * len, len);
                }
                Shape shape = new Shape(b, len);
                try (NDManager m = manager.newSubManager()) {
                    NDArray out = model.forward(Tensors.of(m, ids, shape));
                    sq += out.toType(DataType.FLOAT64, false).square().sum().getDouble();
                    out.attach(manager);          // outlives the batch's sub-manager
                    logits.add(out);
                }
                batches.add(ids);
                shapes.add(shape);
            }
            this.sumSquares = sq;
        }

        static Reference of(NemotronH model, List<long[]> samples, int batchSize, NDManager parent) {
            return new Reference(parent.newSubManager(), model, samples, batchSize);
        }

        /** {@code Σ (M_full − M_−S)² / Σ M_full²} over all batches. */
        double normalizedMse(NemotronH model, Set<Integer> bypassed) {
            int n = model.architecture().layers().size();
            Masks.Builder mb = Masks.builder(n);
            for (int i : bypassed) {
                mb.skip(i);
            }
            Masks masks = mb.build();
            double err = 0;
            for (int k = 0; k < batches.size(); k++) {
                try (NDManager m = manager.newSubManager()) {
                    NDArray out = model.forward(Tensors.of(m, batches.get(k), shapes.get(k)), masks);   // [b, L, V] in m
                    // out first: the difference belongs to the batch's manager, not to the long-lived reference
                    err += out.sub(logits.get(k)).toType(DataType.FLOAT64, false).square().sum().getDouble();
                }
            }
            return sumSquares == 0 ? 0 : err / sumSquares;
        }

        @Override
        public void close() {
            manager.close();
        }
    }
}
