package org.nestlm.elastic;

import ai.djl.ndarray.NDManager;
import org.nestlm.model.Tensors;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nestlm.model.Architecture;
import org.nestlm.model.ConfigJson;
import org.nestlm.model.LayerSpec;
import org.nestlm.model.ModelConfig;
import org.nestlm.model.NemotronH;
import org.nestlm.model.Presets;
import org.nestlm.model.TestModels;
import org.nestlm.model.WeightNames;

import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The physical permutation keeps the model's function and the group structure (docs/METHOD.md §3). */
class PermutationTest extends org.nestlm.DjlTestBase {




    static float[] logits(Architecture arch, Map<String, float[]> w, long[] ids, int batch) {
        try (NDManager m = manager.newSubManager(); NemotronH net = NemotronH.fromTensors(arch, m, w::get)) {
            return net.forward(Tensors.of(m, ids, new Shape(batch, ids.length / batch))).toFloatArray();
        }
    }

    static long[] randomIds(Random r, int n, int vocab) {
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = r.nextInt(vocab);
        }
        return ids;
    }

    /** With biases everywhere, so that every bias permutation is exercised too. */
    static ModelConfig withBiases(ModelConfig c) {
        ObjectNode o = ConfigJson.toJson(c);
        o.put("use_bias", true).put("mlp_bias", true).put("attention_bias", true);
        return ConfigJson.fromJson(o);
    }

    static void assertSameLogits(Architecture arch, long seed) {
        Map<String, float[]> w = RankingsTestData.weights(arch, seed);
        Rankings r = RankingsTestData.random(arch, seed);
        assertFalse(r.isWidthIdentity(), "the test rankings must permute something");
        Map<String, float[]> p = Permutation.apply(w, arch, r);
        long[] ids = randomIds(new Random(seed), 2 * 40, arch.config().vocabSize());
        float[] a = logits(arch, w, ids, 2), b = logits(arch, p, ids, 2);
        double max = 0, scale = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
            scale = Math.max(scale, Math.abs(a[i]));
        }
        assertTrue(scale > 1e-3, "logits must not be trivially zero");
        assertTrue(max <= 1e-5 * Math.max(1, scale), "max |Δlogit| = " + max + " (scale " + scale + ")");
        // and the weights really moved
        assertFalse(java.util.Arrays.equals(w.get(WeightNames.embeddings()), p.get(WeightNames.embeddings())));
    }

    @ParameterizedTest(name = "hybrid seed {0}")
    @ValueSource(ints = {1, 2, 3})
    void permutedHybridModelHasTheSameLogits(int seed) {
        assertSameLogits(Architecture.fromConfig(TestModels.hybrid()), seed);
    }

    @Test
    void permutedTinyPresetHasTheSameLogits() {
        assertSameLogits(Architecture.fromConfig(Presets.get("tiny")), 7);
    }

    @Test
    void permutedModelWithBiasesAndThreeGroupsHasTheSameLogits() {
        assertSameLogits(Architecture.fromConfig(withBiases(TestModels.hybrid(3, 8))), 5);
    }

    /**
     * Tags every element with its old index and checks where it went: Mamba heads stay in their group, every head
     * gets the same channel permutation, dt/A_log/D follow their head, B/C are untouched, query heads stay in their
     * KV group and K/V are untouched.
     */
    @Test
    void groupStructureIsKept() {
        Architecture arch = Architecture.fromConfig(withBiases(TestModels.hybrid(3, 8)));
        ModelConfig c = arch.config();
        Map<String, float[]> w = RankingsTestData.weights(arch, 3);
        for (Map.Entry<String, float[]> e : w.entrySet()) {            // tag = old flat index
            float[] v = e.getValue();
            for (int i = 0; i < v.length; i++) {
                v[i] = i;
            }
        }
        Rankings r = RankingsTestData.random(arch, 9);
        Map<String, float[]> p = Permutation.apply(w, arch, r);
        int h = arch.hiddenSize(), g = c.nGroups(), gn = g * c.ssmStateSize();
        for (int i = 0; i < arch.layers().size(); i++) {
            final int layer = i;
            java.util.function.Function<String, float[]> pm = part -> p.get(WeightNames.mixer(layer, part));
            switch (arch.layers().get(i)) {
                case LayerSpec.Mamba m -> {
                    int nh = m.heads(), hd = m.headDim(), inner = m.innerSize(), per = nh / g;
                    float[] norm = pm.apply("norm.weight");            // [I]: tag = old (head·hd + channel)
                    float[] aLog = pm.apply("A_log");                  // [nh]: tag = old head
                    float[] inBias = pm.apply("in_proj.bias");         // [2I+2GN+nh]
                    float[] convB = pm.apply("conv1d.bias");           // [I+2GN]
                    for (int nhIdx = 0; nhIdx < nh; nhIdx++) {
                        int oldHead = (int) aLog[nhIdx];
                        assertEquals(nhIdx / per, oldHead / per, "layer " + i + ": Mamba head left its group");
                        assertEquals(oldHead + 2 * inner + 2 * gn, (int) inBias[2 * inner + 2 * gn + nhIdx], "dt row follows its head");
                        assertEquals(oldHead, (int) pm.apply("D")[nhIdx]);
                        assertEquals(oldHead, (int) pm.apply("dt_bias")[nhIdx]);
                        for (int cc = 0; cc < hd; cc++) {
                            int old = (int) norm[nhIdx * hd + cc];
                            assertEquals(oldHead, old / hd, "whole heads move");
                            assertEquals(((int) norm[cc]) % hd, old % hd, "layer " + i + ": channel order differs between heads");
                            assertEquals(old, (int) inBias[nhIdx * hd + cc], "z rows follow");
                            assertEquals(old + inner, (int) inBias[inner + nhIdx * hd + cc], "x rows follow");
                            assertEquals(old, (int) convB[nhIdx * hd + cc], "conv x channels follow");
                        }
                    }
                    for (int k = 2 * inner; k < 2 * inner + 2 * gn; k++) {
                        assertEquals(k, (int) inBias[k], "B/C rows of in_proj are untouched");
                    }
                    for (int k = inner; k < inner + 2 * gn; k++) {
                        assertEquals(k, (int) convB[k], "B/C conv channels are untouched");
                    }
                }
                case LayerSpec.Attention a -> {
                    float[] qb = pm.apply("q_proj.bias");               // [nH·hd]
                    int hd = a.headDim();
                    for (int j = 0; j < a.heads(); j++) {
                        int oldHead = (int) qb[j * hd] / hd;
                        assertEquals(j / a.groupSize(), oldHead / a.groupSize(), "layer " + i + ": query head left its KV group");
                        for (int d = 0; d < hd; d++) {
                            assertEquals(oldHead * hd + d, (int) qb[j * hd + d], "whole query heads move");
                        }
                    }
                    assertArrayEquals(w.get(WeightNames.mixer(i, "k_proj.bias")), pm.apply("k_proj.bias"));
                    assertArrayEquals(w.get(WeightNames.mixer(i, "v_proj.bias")), pm.apply("v_proj.bias"));
                }
                case LayerSpec.Mlp f -> {
                    float[] ub = pm.apply("up_proj.bias");
                    int[] order = ((Rankings.Mlp) r.layers().get(i)).order();
                    for (int k = 0; k < f.width(); k++) {
                        assertEquals(order[k], (int) ub[k]);
                    }
                }
            }
            float[] norm = p.get(WeightNames.layerNorm(i));
            for (int k = 0; k < h; k++) {
                assertEquals(r.hidden().order()[k], (int) norm[k], "hidden order applied to layer norm " + i);
            }
        }
    }

    @Test
    void permutedRankingsAreTheIdentityAndPermutingByThemChangesNothing() {
        Architecture arch = Architecture.fromConfig(TestModels.hybrid());
        Map<String, float[]> w = RankingsTestData.weights(arch, 4);
        Rankings r = RankingsTestData.random(arch, 4);
        Rankings id = r.permuted();
        assertTrue(id.isWidthIdentity());
        assertArrayEquals(r.depth().removalOrder(), id.depth().removalOrder(), "depth order unchanged");
        id.validate(arch, "permuted");
        // scores move with their elements: the permuted hidden scores are the original ones in rank order
        for (int k = 0; k < arch.hiddenSize(); k++) {
            assertEquals(r.hidden().scores()[r.hidden().order()[k]], id.hidden().scores()[k]);
        }
        Map<String, float[]> p = Permutation.apply(w, arch, r);
        Map<String, float[]> again = Permutation.apply(p, arch, id);
        for (String name : p.keySet()) {
            assertArrayEquals(p.get(name), again.get(name), name);
        }
        Map<String, float[]> unchanged = Permutation.apply(w, arch, Rankings.identity(arch, RankingsTestData.CAL));
        for (String name : w.keySet()) {
            assertArrayEquals(w.get(name), unchanged.get(name), name);
        }
    }

    @Test
    void rejectsRankingsOfAnotherModelAndMissingTensors() {
        Architecture arch = Architecture.fromConfig(TestModels.hybrid());
        Architecture tiny = Architecture.fromConfig(Presets.get("tiny"));
        Map<String, float[]> w = RankingsTestData.weights(arch, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Permutation.apply(w, arch, RankingsTestData.random(tiny, 1)));
        assertTrue(e.getMessage().contains("hidden.order"), e.getMessage());
        w.remove(WeightNames.normF());
        e = assertThrows(IllegalArgumentException.class, () -> Permutation.apply(w, arch, RankingsTestData.random(arch, 1)));
        assertTrue(e.getMessage().contains(WeightNames.normF()), e.getMessage());
    }
}
