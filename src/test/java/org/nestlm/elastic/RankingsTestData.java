package org.nestlm.elastic;

import org.nestlm.model.Architecture;
import org.nestlm.model.Initializer;
import org.nestlm.model.LayerSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Random rankings, reversed rankings and weights with non-trivial norms, for the elastic tests. */
final class RankingsTestData {

    private RankingsTestData() {
    }

    static final Rankings.Calibration CAL = new Rankings.Calibration("test", 4, 16, 2, 2);

    /** A uniformly random permutation of 0 … n−1. */
    static int[] shuffled(Random r, int n) {
        int[] p = Rankings.identity(n);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    static double[] randomScores(Random r, int n) {
        double[] s = new double[n];
        for (int i = 0; i < n; i++) {
            s[i] = r.nextDouble();
        }
        return s;
    }

    private static int[][] shuffledGroups(Random r, int groups, int size) {
        int[][] g = new int[groups][];
        for (int i = 0; i < groups; i++) {
            g[i] = shuffled(r, size);
        }
        return g;
    }

    /** Random (non-identity, with overwhelming probability) rankings of every axis, with a small depth order. */
    static Rankings random(Architecture arch, long seed) {
        Random r = new Random(seed);
        int groups = arch.config().nGroups();
        List<Rankings.Layer> layers = new ArrayList<>();
        int firstNonAttention = -1;
        for (int i = 0; i < arch.layers().size(); i++) {
            LayerSpec s = arch.layers().get(i);
            layers.add(switch (s) {
                case LayerSpec.Mamba m -> new Rankings.Mamba(shuffledGroups(r, groups, m.heads() / groups),
                        randomScores(r, m.heads()), shuffled(r, m.headDim()), randomScores(r, m.headDim()),
                        1 + r.nextInt(m.headDim()));
                case LayerSpec.Attention a -> new Rankings.Attention(shuffledGroups(r, a.kvHeads(), a.groupSize()),
                        randomScores(r, a.heads()));
                case LayerSpec.Mlp f -> new Rankings.Mlp(shuffled(r, f.width()), randomScores(r, f.width()));
            });
            if (!(s instanceof LayerSpec.Attention) && firstNonAttention < 0) {
                firstNonAttention = i;
            }
        }
        Rankings.Depth depth = new Rankings.Depth(new int[] {firstNonAttention}, new double[] {0.25}, new int[0], 0);
        return new Rankings(Rankings.VERSION, CAL, new Rankings.Hidden(shuffled(r, arch.hiddenSize()),
                randomScores(r, arch.hiddenSize())), layers, depth);
    }

    /** Every order reversed (least important first), within the same groups: the worst nesting. */
    static Rankings reversed(Rankings x) {
        List<Rankings.Layer> layers = new ArrayList<>();
        for (Rankings.Layer l : x.layers()) {
            layers.add(switch (l) {
                case Rankings.Mamba m -> new Rankings.Mamba(reverse(m.groups()), m.headScores(), reverse(m.channels()),
                        m.channelScores(), m.rankingHeadDim());
                case Rankings.Attention a -> new Rankings.Attention(reverse(a.groups()), a.headScores());
                case Rankings.Mlp f -> new Rankings.Mlp(reverse(f.order()), f.scores());
            });
        }
        return new Rankings(x.version(), x.calibration(), new Rankings.Hidden(reverse(x.hidden().order()),
                x.hidden().scores()), layers, x.depth());
    }

    static int[] reverse(int[] p) {
        int[] out = new int[p.length];
        for (int i = 0; i < p.length; i++) {
            out[i] = p[p.length - 1 - i];
        }
        return out;
    }

    static int[][] reverse(int[][] g) {
        int[][] out = new int[g.length][];
        for (int i = 0; i < g.length; i++) {
            out[i] = reverse(g[i]);
        }
        return out;
    }

    /**
     * Initializer weights with every 1-D tensor (norm weights, conv bias, dt_bias, D, biases) perturbed, so that a
     * wrong permutation of any of them changes the logits.
     */
    static Map<String, float[]> weights(Architecture arch, long seed) {
        Map<String, float[]> w = Initializer.initialize(arch, seed);
        Random r = new Random(seed + 1);
        Map<String, long[]> shapes = arch.tensorShapes();
        for (Map.Entry<String, float[]> e : w.entrySet()) {
            if (shapes.get(e.getKey()).length == 1) {
                float[] v = e.getValue();
                for (int i = 0; i < v.length; i++) {
                    v[i] += (float) (0.3 * r.nextGaussian());
                }
            }
        }
        return w;
    }

    /**
     * Gives the elements of every elastic axis different scales, as training does: a freshly initialised model has
     * nearly uniform activation magnitudes, so its importance rankings are noise. Scales are log-uniform in
     * [e^−1.5, e^1.5]: Mamba x rows of in_proj per head and per head channel, query rows per head, MLP up rows per
     * neuron. Modifies and returns {@code w}.
     */
    static Map<String, float[]> structured(Architecture arch, Map<String, float[]> w, long seed) {
        Random r = new Random(seed);
        int h = arch.hiddenSize();
        for (int i = 0; i < arch.layers().size(); i++) {
            switch (arch.layers().get(i)) {
                case LayerSpec.Mamba m -> {
                    float[] in = w.get(org.nestlm.model.WeightNames.mixer(i, "in_proj.weight"));   // [2I+2GN+nh, H]
                    double[] head = logUniform(r, m.heads()), channel = logUniform(r, m.headDim());
                    for (int hh = 0; hh < m.heads(); hh++) {
                        for (int c = 0; c < m.headDim(); c++) {
                            scaleRow(in, m.innerSize() + hh * m.headDim() + c, h, head[hh] * channel[c]);   // x block
                        }
                    }
                }
                case LayerSpec.Attention a -> {
                    float[] q = w.get(org.nestlm.model.WeightNames.mixer(i, "q_proj.weight"));      // [nH·hd, H]
                    double[] head = logUniform(r, a.heads());
                    for (int j = 0; j < a.heads(); j++) {
                        for (int d = 0; d < a.headDim(); d++) {
                            scaleRow(q, j * a.headDim() + d, h, 3 * head[j]);
                        }
                    }
                }
                case LayerSpec.Mlp f -> {
                    float[] up = w.get(org.nestlm.model.WeightNames.mixer(i, "up_proj.weight"));    // [F, H]
                    double[] neuron = logUniform(r, f.width());
                    for (int k = 0; k < f.width(); k++) {
                        scaleRow(up, k, h, neuron[k]);
                    }
                }
            }
        }
        return w;
    }

    private static double[] logUniform(Random r, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = Math.exp(3 * r.nextDouble() - 1.5);
        }
        return v;
    }

    private static void scaleRow(float[] m, int row, int cols, double f) {
        for (int c = 0; c < cols; c++) {
            m[row * cols + c] *= (float) f;
        }
    }
}
