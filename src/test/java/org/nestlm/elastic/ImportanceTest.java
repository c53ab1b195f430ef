package org.nestlm.elastic;

import org.nestlm.sizes.Subnet;

import ai.djl.ndarray.NDArray;
import org.nestlm.model.Tensors;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nestlm.model.Architecture;
import org.nestlm.model.LayerKind;
import org.nestlm.model.LayerSpec;
import org.nestlm.model.Masks;
import org.nestlm.model.NemotronH;
import org.nestlm.model.TestModels;
import org.nestlm.train.TokenSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Importance aggregation (hand-checked), ranking rules, depth protection, and that the rankings mean something. */
class ImportanceTest extends org.nestlm.DjlTestBase {

    static Architecture arch;
    static Map<String, float[]> weights;
    static NemotronH model;
    static List<long[]> samples;

    @BeforeAll
    static void build() {
        arch = Architecture.fromConfig(TestModels.hybrid());
        weights = RankingsTestData.structured(arch, RankingsTestData.weights(arch, 21), 22);
        model = NemotronH.fromTensors(arch, manager, weights::get);
        Random r = new Random(5);
        int[] stream = new int[4000];
        for (int i = 0; i < stream.length; i++) {
            stream[i] = r.nextInt(arch.config().vocabSize());
        }
        samples = Importance.windows(TokenSource.of(stream, stream.length), 8, 24);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** mean over the sequence of |a| per sample, then sqrt of the sum of squares over the batch. */
    @Test
    void aggregationMatchesAHandComputation() {
        // a [b=2, L=3, C=2]
        float[] a = {1, -2, 3, 0, -5, 4,      // sample 0: mean|a| = (1+3+5)/3 = 3, (2+0+4)/3 = 2
                     0, 1, 0, -1, 6, 1};      // sample 1: mean|a| = 2, 1
        try (NDManager m = manager.newSubManager()) {
            ImportanceAggregator agg = new ImportanceAggregator(2);
            agg.add(Tensors.of(m, a, new Shape(2, 3, 2)));
            assertArrayEquals(new double[] {Math.sqrt(9 + 4), Math.sqrt(4 + 1)}, agg.scores(), 1e-6);

            // the same samples in two batches of one: the same scores (Σ v² accumulates, sqrt at the end)
            ImportanceAggregator split = new ImportanceAggregator(2);
            split.add(Tensors.of(m, java.util.Arrays.copyOfRange(a, 0, 6), new Shape(1, 3, 2)));
            split.add(Tensors.of(m, java.util.Arrays.copyOfRange(a, 6, 12), new Shape(1, 3, 2)));
            assertArrayEquals(agg.scores(), split.scores(), 1e-6);

            // trailing axes are flattened: [b, L, nh, hd]
            ImportanceAggregator heads = new ImportanceAggregator(2);
            heads.add(Tensors.of(m, a, new Shape(2, 3, 2, 1)));
            assertArrayEquals(agg.scores(), heads.scores(), 1e-6);
        }
    }

    /** Eqs 3–4 and the attention rule on hand-made scores, including the effect of m_d*. */
    @Test
    void rankingRulesOnHandMadeScores() {
        // hybrid: layer 0 Mamba 6 heads x 10 in 2 groups; layer 1 attention 6 query heads x 12 in 2 KV groups; layer 2 MLP 80
        List<double[]> layers = new ArrayList<>();
        for (LayerSpec s : arch.layers()) {
            layers.add(new double[switch (s) {
                case LayerSpec.Mamba m -> m.innerSize();
                case LayerSpec.Attention a -> a.heads() * a.headDim();
                case LayerSpec.Mlp f -> f.width();
            }]);
        }
        double[] x = layers.get(0);                   // [nh=6, hd=10], head-major
        x[0 * 10 + 0] = 10;
        x[1 * 10 + 1] = 6;
        x[2 * 10 + 1] = 6;
        x[2 * 10 + 2] = 9;
        x[4 * 10 + 0] = 2;
        x[5 * 10 + 3] = 1;
        double[] att = layers.get(1);                 // [nH=6, hd=12]
        double[] headValue = {1, 3, 2, 0.5, 0.1, 4};
        for (int j = 0; j < 6; j++) {
            for (int d = 0; d < 12; d++) {
                att[j * 12 + d] = headValue[j];
            }
        }
        double[] mlp = layers.get(2);
        mlp[7] = 3;
        mlp[3] = 2;
        double[] hidden = new double[arch.hiddenSize()];
        hidden[5] = 1;
        Importance.Scores scores = new Importance.Scores(hidden, layers);

        Rankings full = Importance.rank(arch, scores, 0, RankingsTestData.CAL, Rankings.Depth.none());
        Rankings.Mamba m = (Rankings.Mamba) full.layers().get(0);
        // channel scores: L2 across heads
        assertEquals(Math.sqrt(100 + 4), m.channelScores()[0], 1e-12);
        assertEquals(Math.sqrt(36 + 36), m.channelScores()[1], 1e-12);
        assertEquals(9, m.channelScores()[2], 1e-12);
        assertArrayEquals(new int[] {0, 2, 1, 3, 4, 5, 6, 7, 8, 9}, m.channels());
        // full head dim: head 2 (√(36+81)) > head 0 (10) > head 1 (6); group 1: head 4 (2) > head 5 (1) > head 3 (0)
        assertArrayEquals(new int[][] {{2, 0, 1}, {1, 2, 0}}, m.groups());
        assertEquals(10, m.rankingHeadDim());

        Rankings top1 = Importance.rank(arch, scores, 1, RankingsTestData.CAL, Rankings.Depth.none());
        Rankings.Mamba m1 = (Rankings.Mamba) top1.layers().get(0);
        // m_d* = 1: only channel 0 counts: group 0 → head 0 (10), then heads 1, 2 tied at 0 (lower index first)
        assertArrayEquals(new int[][] {{0, 1, 2}, {1, 0, 2}}, m1.groups());
        assertEquals(2, m1.headScores()[4], 1e-12);
        assertEquals(1, m1.rankingHeadDim());

        Rankings.Attention a = (Rankings.Attention) full.layers().get(1);
        assertEquals(Math.sqrt(12) * 3, a.headScores()[1], 1e-12);   // L2 over head_dim
        assertArrayEquals(new int[][] {{1, 2, 0}, {2, 0, 1}}, a.groups());
        assertArrayEquals(new int[] {1, 2, 0, 5, 3, 4}, full.attentionHeadOrder(1), "ranked within KV groups only");

        Rankings.Mlp f = (Rankings.Mlp) full.layers().get(2);
        assertEquals(7, f.order()[0]);
        assertEquals(3, f.order()[1]);
        assertEquals(5, full.hidden().order()[0]);
        full.validate(arch, "hand");
    }

    @Test
    void scoresDoNotDependOnTheBatchSize() {
        Importance.Scores one = Importance.scores(model, samples, 1);
        Importance.Scores four = Importance.scores(model, samples, 4);
        assertArrayEquals(one.hidden(), four.hidden(), 1e-4 * max(one.hidden()));
        for (int i = 0; i < arch.layers().size(); i++) {
            assertArrayEquals(one.layers().get(i), four.layers().get(i), 1e-4 * max(one.layers().get(i)), "layer " + i);
            assertTrue(max(one.layers().get(i)) > 0, "layer " + i + " was observed");
        }
    }

    private static double max(double[] v) {
        double m = 0;
        for (double x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }

    @Test
    void depthSearchNeverRemovesProtectedAttentionLayers() {
        Rankings r = Importance.estimate(model, samples,
                Importance.Options.defaults().withBatchSize(4).withDepth(DepthImportance.Options.attentionProtected(), 4), "random ids",
                DepthImportance.Listener.NONE);
        r.validate(arch, "estimated");
        int n = arch.layers().size();
        int attention = arch.countLayers(LayerKind.ATTENTION);
        Rankings.Depth d = r.depth();
        assertEquals(n - attention, d.removalOrder().length, "every non-attention layer is ranked");
        for (int layer : d.removalOrder()) {
            assertTrue(arch.layers().get(layer).kind() != LayerKind.ATTENTION, "removed attention layer " + layer);
        }
        assertArrayEquals(new int[] {1, 5}, d.protectedLayers());
        assertEquals(new Rankings.Calibration("random ids", 8, 24, 4, 4), r.calibration());

        // the first step's score is the normalized MSE of that single layer bypassed against the full model
        int first = d.removalOrder()[0];
        double num = 0, den = 0;
        try (NDManager m = manager.newSubManager()) {
            for (long[] s : samples.subList(0, 4)) {   // the depth samples
                NDArray ids = Tensors.of(m, s, new Shape(1, s.length));
                float[] full = model.forward(ids).toFloatArray();
                float[] cut = model.forward(ids, Masks.builder(n).skip(first).build()).toFloatArray();
                for (int i = 0; i < full.length; i++) {
                    num += (double) (full[i] - cut[i]) * (full[i] - cut[i]);
                    den += (double) full[i] * full[i];
                }
            }
        }
        assertEquals(num / den, d.normalizedMse()[0], 1e-4 * num / den);
        // greedy: each first-round alternative scores at least as high (checked through the listener)
        List<double[]> firstRound = new ArrayList<>();
        DepthImportance.estimate(model, samples.subList(0, 4), 4, DepthImportance.Options.attentionProtected().withMaxRemovals(1),
                new DepthImportance.Listener() {
                    public void start(long evaluations) {
                        assertEquals(n - attention, evaluations);
                    }

                    public void evaluated(int round, int layer, double mse) {
                        firstRound.add(new double[] {layer, mse});
                    }
                });
        assertEquals(n - attention, firstRound.size());
        for (double[] e : firstRound) {
            assertTrue(e[1] >= d.normalizedMse()[0] - 1e-9, "layer " + (int) e[0] + " scored lower than the removed one");
        }
    }

    @Test
    void minimumAttentionLayersAreKept() {
        Rankings.Depth d = DepthImportance.estimate(model, samples.subList(0, 2), 2, DepthImportance.Options.minAttention(1),
                DepthImportance.Listener.NONE);
        int n = arch.layers().size();
        assertEquals(n - 1, d.removalOrder().length, "one layer always stays");
        long attentionRemoved = java.util.Arrays.stream(d.removalOrder())
                .filter(l -> arch.layers().get(l).kind() == LayerKind.ATTENTION).count();
        assertTrue(attentionRemoved <= 1, "at least one of the two attention layers stays");
        assertEquals(0, d.protectedLayers().length);
        assertEquals(1, d.minAttentionLayers());
    }

    /**
     * After permuting by the estimated rankings, a half-size nested sub-model keeps more of the full model (lower
     * KL to its next-token distribution) than the same-size sub-model under the reversed order. The model's axes
     * are given different element scales ({@link RankingsTestData#structured}), as training does.
     */
    @Test
    void estimatedOrderBeatsTheReversedOrder() {
        Rankings est = Importance.estimate(model, samples, Importance.Options.defaults().withBatchSize(4).withDepth(null, 0),
                "random ids", DepthImportance.Listener.NONE);
        Rankings rev = RankingsTestData.reversed(est);
        List<LayerSpec> layers = new ArrayList<>();
        for (LayerSpec s : arch.layers()) {
            layers.add(switch (s) {
                case LayerSpec.Mamba m -> new LayerSpec.Mamba(arch.config().nGroups(), m.headDim() / 2);   // 1 head per group
                case LayerSpec.Attention a -> new LayerSpec.Attention(a.kvHeads(), a.kvHeads(), a.headDim());  // 1 query head per KV group
                case LayerSpec.Mlp f -> new LayerSpec.Mlp(f.width() / 2);
            });
        }
        Subnet sub = new Subnet(arch.hiddenSize() * 3 / 4, layers, Collections.nCopies(layers.size(), true)).validate(arch);
        // each axis alone (0 hidden, 1 Mamba heads and head channels, 3 MLP), then all together
        for (int axis = 0; axis < 4; axis++) {
            List<LayerSpec> one = new ArrayList<>();
            for (int i = 0; i < layers.size(); i++) {
                LayerSpec s = arch.layers().get(i);
                int kind = s instanceof LayerSpec.Mamba ? 1 : s instanceof LayerSpec.Attention ? 2 : 3;
                one.add(kind == axis ? layers.get(i) : s);
            }
            Subnet so = new Subnet(axis == 0 ? arch.hiddenSize() * 3 / 4 : arch.hiddenSize(), one, Collections.nCopies(layers.size(), true));
            if (axis != 2) {   // attention heads of a random model barely matter (KL ~1e-5 either way): not compared alone
                double e = kl(Permutation.apply(weights, arch, est), so), v = kl(Permutation.apply(weights, arch, rev), so);
                assertTrue(e < v, "axis " + axis + " alone: estimated order " + e + " vs reversed " + v);
            }
        }
        double klEst = kl(Permutation.apply(weights, arch, est), sub);
        double klRev = kl(Permutation.apply(weights, arch, rev), sub);
        assertTrue(klEst < klRev, "KL(full || sub): estimated order " + klEst + " vs reversed " + klRev);
    }

    /** Mean over positions of KL(full model || masked sub-model) on the calibration samples. */
    private static double kl(Map<String, float[]> w, Subnet sub) {
        try (NDManager m = manager.newSubManager(); NemotronH net = NemotronH.fromTensors(arch, m, w::get)) {
            long[] ids = new long[samples.size() * samples.get(0).length];
            for (int i = 0; i < samples.size(); i++) {
                System.arraycopy(samples.get(i), 0, ids, i * samples.get(i).length, samples.get(i).length);
            }
            NDArray x = Tensors.of(m, ids, new Shape(samples.size(), samples.get(0).length));
            NDArray p = net.forward(x).logSoftmax(-1);
            NDArray q = net.forward(x, SubnetMasks.hard(m, arch, sub)).logSoftmax(-1);
            return p.exp().mul(p.sub(q)).sum(new int[] {-1}).mean().getFloat();
        }
    }
}
