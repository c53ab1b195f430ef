package org.nestlm.elastic;

import ai.djl.ndarray.NDManager;
import org.nestlm.model.Tensors;
import ai.djl.ndarray.types.Shape;
import org.nestlm.dist.Communicator;
import org.nestlm.dist.SingleProcess;
import org.nestlm.model.ActivationProbe;
import org.nestlm.model.Architecture;
import org.nestlm.model.LayerSpec;
import org.nestlm.model.NemotronH;
import org.nestlm.train.TokenSource;

import java.util.ArrayList;
import java.util.List;

/**
 * Width importance of every elastic axis from forward passes only (docs/METHOD.md §2),
 * plus the depth ranking of {@link DepthImportance}. Each activation site is aggregated by
 * {@link ImportanceAggregator} (mean over the sequence, L2 over the batch):
 * <ul>
 *   <li>hidden channel: the aggregated pre-mixer norm output u [b, L, H] of every layer, summed over layers (Eq 1);</li>
 *   <li>MLP neuron: the pre-activation up(u) [b, L, F] (Eq 2);</li>
 *   <li>attention query head: the o_proj input [b, L, nH, hd], L2 over hd, ranked within its KV group;</li>
 *   <li>Mamba head channel: the x branch s [b, L, nh, hd] aggregated to [nh, hd], then L2 across heads (Eq 3);</li>
 *   <li>Mamba head: L2 of its aggregated x scores over the top {@code m_d*} channels only (Eq 4), ranked within its
 *       group (group-aware: every group keeps the same number of heads; B, C and the group count are never ranked).</li>
 * </ul>
 * Every batch runs in its own sub-manager, closed after the batch; only the reduced score vectors reach the heap.
 */
public final class Importance {

    private Importance() {
    }

    /**
     * @param batchSize           sequences per forward pass
     * @param mambaRankingHeadDim m_d* for the Mamba head scores (Eq 4): the smallest head-dim candidate, so that one
     *                            head ranking serves all; 0 means the full head dim of each layer
     * @param depth               options of the depth search, or null to skip it ({@link Rankings.Depth#none()})
     * @param depthSamples        how many of the samples (the first ones) the depth search uses
     */
    public record Options(int batchSize, int mambaRankingHeadDim, DepthImportance.Options depth, int depthSamples) {

        public Options {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
            }
            if (mambaRankingHeadDim < 0) {
                throw new IllegalArgumentException("Mamba ranking head dim must be ≥ 0 (0 = full), got " + mambaRankingHeadDim);
            }
            if (depth != null && depthSamples < 1) {
                throw new IllegalArgumentException("the depth search needs at least one sample, got " + depthSamples);
            }
        }

        /** Batches of 8, full head dim, depth with attention layers protected on up to 8 samples. */
        public static Options defaults() {
            return new Options(8, 0, DepthImportance.Options.attentionProtected(), 8);
        }

        public Options withBatchSize(int b) {
            return new Options(b, mambaRankingHeadDim, depth, depthSamples);
        }

        public Options withDepth(DepthImportance.Options d, int samples) {
            return new Options(batchSize, mambaRankingHeadDim, d, samples);
        }

        public Options withMambaRankingHeadDim(int md) {
            return new Options(batchSize, md, depth, depthSamples);
        }
    }

    /**
     * The aggregated scores before ranking, indexed like the model's tensors.
     *
     * @param hidden [H], summed over layers
     * @param layers per layer: MLP [F]; attention [nH·hd] (head-major); Mamba x [nh·hd] (head-major)
     */
    public record Scores(double[] hidden, List<double[]> layers) {
    }

    /**
     * Windows of {@code seqLen} tokens spread evenly over the whole source (non-overlapping when it is long enough),
     * so that calibration sees all of a corpus and is reproducible without a seed.
     */
    public static List<long[]> windows(TokenSource source, int samples, int seqLen) {
        if (samples < 1 || seqLen < 1) {
            throw new IllegalArgumentException("need samples ≥ 1 and seq len ≥ 1, got " + samples + " and " + seqLen);
        }
        if (source.size() < seqLen) {
            throw new IllegalArgumentException("the calibration data has " + source.size() + " tokens, fewer than one window of "
                    + seqLen);
        }
        long span = source.size() - seqLen;
        List<long[]> out = new ArrayList<>();
        for (int i = 0; i < samples; i++) {
            int start = (int) (samples == 1 ? 0 : span * i / (samples - 1));
            long[] w = new long[seqLen];
            for (int t = 0; t < seqLen; t++) {
                w[t] = source.get(start + t);
            }
            out.add(w);
        }
        return out;
    }

    /** Rankings from {@code samples} windows of {@code seqLen} tokens of {@code source} (see {@link #windows}). */
    public static Rankings estimate(NemotronH model, TokenSource source, int samples, int seqLen, Options options,
                                    String description, DepthImportance.Listener listener) {
        return estimate(model, windows(source, samples, seqLen), options, description, listener);
    }

    /**
     * Width scores, their rankings and (unless {@code options.depth()} is null) the depth removal order.
     *
     * @param samples     calibration sequences, all of the same length
     * @param description the calibration source, stored in the rankings
     * @param listener    progress of the depth search (may be {@link DepthImportance.Listener#NONE})
     */
    public static Rankings estimate(NemotronH model, List<long[]> samples, Options options, String description,
                                    DepthImportance.Listener listener) {
        return estimate(model, samples, options, description, listener, SingleProcess.INSTANCE);
    }

    /**
     * The same as one rank of a data-parallel job: the width scores' batches are split across {@code comm}'s ranks
     * ({@link #scores(NemotronH, List, int, Communicator)}); the depth search runs whole on every rank.
     */
    public static Rankings estimate(NemotronH model, List<long[]> samples, Options options, String description,
                                    DepthImportance.Listener listener, Communicator comm) {
        Scores scores = scores(model, samples, options.batchSize(), comm);
        Rankings.Depth depth = Rankings.Depth.none();
        int depthSamples = 0;
        if (options.depth() != null) {
            depthSamples = Math.min(options.depthSamples(), samples.size());
            depth = DepthImportance.estimate(model, samples.subList(0, depthSamples), options.batchSize(), options.depth(), listener);
        }
        Rankings.Calibration cal = new Rankings.Calibration(description, samples.size(), samples.get(0).length,
                options.batchSize(), depthSamples);
        return rank(model.architecture(), scores, options.mambaRankingHeadDim(), cal, depth);
    }

    /** Runs the calibration forward passes and aggregates every activation site. */
    public static Scores scores(NemotronH model, List<long[]> samples, int batchSize) {
        return scores(model, samples, batchSize, SingleProcess.INSTANCE);
    }

    /**
     * The same with batch k computed by rank k mod N of {@code comm}. Each batch is aggregated on its own, the
     * per-batch sums of squares are exchanged in one all-reduce (each element the sum of one rank's value and
     * zeros: exact), and every rank adds them up in batch order, so the scores are bit-identical to one process's.
     */
    public static Scores scores(NemotronH model, List<long[]> samples, int batchSize, Communicator comm) {
        if (samples.isEmpty()) {
            throw new IllegalArgumentException("no calibration samples");
        }
        int len = samples.get(0).length;
        for (int i = 0; i < samples.size(); i++) {
            if (samples.get(i).length != len) {
                throw new IllegalArgumentException("calibration sample " + i + " has " + samples.get(i).length
                        + " tokens, sample 0 has " + len + " (all must have the same length)");
            }
        }
        Architecture arch = model.architecture();
        int n = arch.layers().size(), h = arch.hiddenSize();
        ImportanceAggregator[] hidden = aggregators(arch, true), layer = aggregators(arch, false);
        int width = 0;   // doubles per batch: every hidden aggregator, then every layer aggregator
        for (int i = 0; i < n; i++) {
            width += hidden[i].size() + layer[i].size();
        }
        int batches = (samples.size() + batchSize - 1) / batchSize;
        double[] perBatch = new double[Math.multiplyExact(batches, width)];
        try (NDManager base = NDManager.newBaseManager()) {
            for (int k = comm.rank(); k < batches; k += comm.size()) {
                ImportanceAggregator[] bh = aggregators(arch, true), bl = aggregators(arch, false);
                ActivationProbe probe = (i, site, a) -> {
                    switch (site) {
                        case PRE_MIXER_NORM -> bh[i].add(a);                                  // u [b, L, H]
                        case MLP_PRE_ACTIVATION, ATTENTION_CONTEXT, MAMBA_X -> bl[i].add(a);  // [b, L, F] / [b, L, nH, hd] / [b, L, nh, hd]
                    }
                };
                int first = k * batchSize;
                int b = Math.min(batchSize, samples.size() - first);
                long[] ids = new long[b * len];
                for (int s = 0; s < b; s++) {
                    System.arraycopy(samples.get(first + s), 0, ids, s * len, len);
                }
                try (NDManager m = base.newSubManager()) {
                    model.forward(Tensors.of(m, ids, new Shape(b, len)), null, null, probe);
                }
                int at = k * width;
                for (int i = 0; i < n; i++) {
                    bh[i].copySumSquares(perBatch, at);
                    at += bh[i].size();
                    bl[i].copySumSquares(perBatch, at);
                    at += bl[i].size();
                }
            }
        }
        comm.sumElementwise(perBatch);
        for (int k = 0; k < batches; k++) {
            int at = k * width;
            for (int i = 0; i < n; i++) {
                hidden[i].addSumSquares(perBatch, at);
                at += hidden[i].size();
                layer[i].addSumSquares(perBatch, at);
                at += layer[i].size();
            }
        }
        // Eq 1: each layer's norm output is aggregated on its own, then the layers are summed
        double[] hs = new double[h];
        for (ImportanceAggregator agg : hidden) {
            double[] s = agg.scores();
            for (int c = 0; c < h; c++) {
                hs[c] += s[c];
            }
        }
        List<double[]> ls = new ArrayList<>();
        for (ImportanceAggregator agg : layer) {
            ls.add(agg.scores());
        }
        return new Scores(hs, ls);
    }

    /** One aggregator per layer: of its pre-mixer norm output ({@code hidden}) or of its mixer's ranked site. */
    private static ImportanceAggregator[] aggregators(Architecture arch, boolean hidden) {
        ImportanceAggregator[] out = new ImportanceAggregator[arch.layers().size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = new ImportanceAggregator(hidden ? arch.hiddenSize() : switch (arch.layers().get(i)) {
                case LayerSpec.Mamba m -> m.innerSize();
                case LayerSpec.Attention a -> a.heads() * a.headDim();
                case LayerSpec.Mlp f -> f.width();
            });
        }
        return out;
    }

    /**
     * Turns aggregated scores into rankings (pure; no model needed).
     *
     * @param mambaRankingHeadDim m_d* of Eq 4, 0 for the full head dim (clamped to each layer's head dim)
     */
    public static Rankings rank(Architecture arch, Scores scores, int mambaRankingHeadDim, Rankings.Calibration calibration,
                                Rankings.Depth depth) {
        int groups = arch.config().nGroups();
        List<Rankings.Layer> out = new ArrayList<>();
        for (int i = 0; i < arch.layers().size(); i++) {
            double[] s = scores.layers().get(i);
            out.add(switch (arch.layers().get(i)) {
                case LayerSpec.Mlp f -> new Rankings.Mlp(Rankings.argsortDescending(s), s);
                case LayerSpec.Attention a -> {
                    double[] head = rowNorms(s, a.heads(), a.headDim(), Rankings.identity(a.headDim()));   // [nH]
                    yield new Rankings.Attention(rankWithinGroups(head, a.kvHeads()), head);
                }
                case LayerSpec.Mamba m -> {
                    int nh = m.heads(), hd = m.headDim();
                    double[] channel = new double[hd];                  // Eq 3: L2 across heads, [hd]
                    for (int c = 0; c < hd; c++) {
                        double sq = 0;
                        for (int hh = 0; hh < nh; hh++) {
                            sq += s[hh * hd + c] * s[hh * hd + c];
                        }
                        channel[c] = Math.sqrt(sq);
                    }
                    int[] channels = Rankings.argsortDescending(channel);
                    int md = mambaRankingHeadDim == 0 ? hd : Math.min(mambaRankingHeadDim, hd);
                    int[] top = java.util.Arrays.copyOf(channels, md);
                    double[] head = rowNorms(s, nh, hd, top);           // Eq 4: L2 over the top m_d* channels, [nh]
                    yield new Rankings.Mamba(rankWithinGroups(head, groups), head, channels, channel, md);
                }
            });
        }
        return new Rankings(Rankings.VERSION, calibration,
                new Rankings.Hidden(Rankings.argsortDescending(scores.hidden()), scores.hidden()), out, depth);
    }

    /** {@code out[r] = sqrt(Σ_{c ∈ cols} m[r, c]²)} for a row-major [rows, width] matrix. */
    static double[] rowNorms(double[] m, int rows, int width, int[] cols) {
        double[] out = new double[rows];
        for (int r = 0; r < rows; r++) {
            double sq = 0;
            for (int c : cols) {
                sq += m[r * width + c] * m[r * width + c];
            }
            out[r] = Math.sqrt(sq);
        }
        return out;
    }

    /** Splits [n] scores into {@code groups} contiguous groups and ranks each group on its own (local indices). */
    static int[][] rankWithinGroups(double[] scores, int groups) {
        int k = scores.length / groups;
        int[][] out = new int[groups][];
        for (int g = 0; g < groups; g++) {
            out[g] = Rankings.argsortDescending(java.util.Arrays.copyOfRange(scores, g * k, (g + 1) * k));
        }
        return out;
    }
}
