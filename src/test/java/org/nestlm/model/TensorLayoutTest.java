package org.nestlm.model;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tensor table: its element count, its matrix views, and index sets expanded by hand (docs/ARCHITECTURE.md §3). */
class TensorLayoutTest {

    /** V 5, H 3, pattern M*-, Mamba 4 heads × 2 (G 2, N 1, K 2: I 8, GN 2), attention 4/2 × 2, MLP 4. */
    static ModelConfig small() {
        return Presets.get("tiny").resized()
                .vocabSize(5).hiddenSize(3).hybridOverridePattern("M*-").intermediateSize(4)
                .numAttentionHeads(4).numKeyValueHeads(2).headDim(2)
                .mambaNumHeads(4).mambaHeadDim(2).ssmStateSize(1).nGroups(2).convKernel(2).chunkSize(8)
                .build();
    }

    static ModelConfig with(ModelConfig c, boolean biases, boolean tied) {
        ObjectNode o = ConfigJson.toJson(c);
        o.put("use_bias", biases).put("mlp_bias", biases).put("attention_bias", biases);
        o.put("use_conv_bias", !tied).put("tie_word_embeddings", tied);
        return ConfigJson.fromJson(o);
    }

    @Test
    void elementsAreTheParameterCountWithEveryBiasFlag() {
        for (ModelConfig base : new ModelConfig[] {small(), TestModels.hybrid(), Presets.get("tiny")}) {
            for (boolean biases : new boolean[] {false, true}) {
                for (boolean tied : new boolean[] {false, true}) {
                    Architecture a = Architecture.fromConfig(with(base, biases, tied));
                    long elements = 0;
                    for (TensorLayout.Tensor t : TensorLayout.of(a)) {
                        assertEquals(Arrays.stream(t.shape()).reduce(1, (x, y) -> x * y), t.numel(), t.name());
                        elements += t.numel();
                    }
                    assertEquals(a.parameterCount(), elements, base + " biases " + biases + " tied " + tied);
                }
            }
        }
    }

    @Test
    void shapesAndAxesOfAMambaLayer() {
        Map<String, TensorLayout.Tensor> t = TensorLayout.byName(Architecture.fromConfig(with(small(), true, false)));
        TensorLayout.Tensor in = t.get(WeightNames.mixer(0, "in_proj.weight"));
        assertArrayEquals(new long[] {24, 3}, in.shape());
        assertEquals(List.of(new TensorLayout.Part(TensorLayout.Dim.MAMBA_CHANNELS, 8),
                new TensorLayout.Part(TensorLayout.Dim.MAMBA_CHANNELS, 8), new TensorLayout.Part(TensorLayout.Dim.NONE, 4),
                new TensorLayout.Part(TensorLayout.Dim.MAMBA_HEADS, 4)), in.rows().parts());
        TensorLayout.Tensor conv = t.get(WeightNames.mixer(0, "conv1d.weight"));
        assertArrayEquals(new long[] {12, 1, 2}, conv.shape());
        assertEquals(2, conv.cols().size());
        assertArrayEquals(new long[] {24}, t.get(WeightNames.mixer(0, "in_proj.bias")).shape());
        assertArrayEquals(new long[] {3}, t.get(WeightNames.normF()).shape());
        assertEquals(1, t.get(WeightNames.normF()).cols().size());
    }

    static IndexSets handPicked(boolean dropAttention) {
        List<IndexSets.Layer> layers = new ArrayList<>();
        layers.add(new IndexSets.Mamba(new int[] {0, 2}, new int[] {1}));
        layers.add(dropAttention ? null : new IndexSets.Attention(new int[] {1, 2}));
        layers.add(new IndexSets.Mlp(new int[] {3, 1}));
        return new IndexSets(new int[] {2, 0}, layers);
    }

    static Map<String, TensorLayout.Selection> select(Architecture a, IndexSets s) {
        Map<String, TensorLayout.Selection> m = new LinkedHashMap<>();
        for (TensorLayout.Selection x : TensorLayout.select(a, s)) {
            m.put(x.target(), x);
        }
        return m;
    }

    @Test
    void indexSetsExpandToEveryAxis() {
        Architecture a = Architecture.fromConfig(with(small(), true, false));
        Map<String, TensorLayout.Selection> s = select(a, handPicked(false));
        int[] hid = {2, 0};
        // heads {0, 2} × channel {1} of hd 2: flat z positions 1, 5; x at +I = 8; B, C rows 16..19; dt at 20 + head
        assertArrayEquals(new int[] {1, 5, 9, 13, 16, 17, 18, 19, 20, 22}, s.get(WeightNames.mixer(0, "in_proj.weight")).rows());
        assertArrayEquals(hid, s.get(WeightNames.mixer(0, "in_proj.weight")).cols());
        assertArrayEquals(new int[] {1, 5, 9, 13, 16, 17, 18, 19, 20, 22}, s.get(WeightNames.mixer(0, "in_proj.bias")).rows());
        assertArrayEquals(new int[] {0}, s.get(WeightNames.mixer(0, "in_proj.bias")).cols());
        assertArrayEquals(new int[] {1, 5, 8, 9, 10, 11}, s.get(WeightNames.mixer(0, "conv1d.weight")).rows());
        assertArrayEquals(new int[] {0, 1}, s.get(WeightNames.mixer(0, "conv1d.weight")).cols());
        assertArrayEquals(new int[] {0, 2}, s.get(WeightNames.mixer(0, "A_log")).rows());
        assertArrayEquals(new int[] {1, 5}, s.get(WeightNames.mixer(0, "norm.weight")).rows());
        assertArrayEquals(hid, s.get(WeightNames.mixer(0, "out_proj.weight")).rows());
        assertArrayEquals(new int[] {1, 5}, s.get(WeightNames.mixer(0, "out_proj.weight")).cols());
        assertArrayEquals(hid, s.get(WeightNames.layerNorm(1)).rows());
        // query heads {1, 2} of dh 2: rows 2..5; K and V whole
        assertArrayEquals(new int[] {2, 3, 4, 5}, s.get(WeightNames.mixer(1, "q_proj.weight")).rows());
        assertArrayEquals(new int[] {0, 1, 2, 3}, s.get(WeightNames.mixer(1, "k_proj.weight")).rows());
        assertArrayEquals(new int[] {0, 1, 2, 3}, s.get(WeightNames.mixer(1, "v_proj.bias")).rows());
        assertArrayEquals(new int[] {2, 3, 4, 5}, s.get(WeightNames.mixer(1, "o_proj.weight")).cols());
        assertArrayEquals(hid, s.get(WeightNames.mixer(1, "o_proj.bias")).rows());
        assertArrayEquals(new int[] {3, 1}, s.get(WeightNames.mixer(2, "up_proj.weight")).rows());
        assertArrayEquals(new int[] {3, 1}, s.get(WeightNames.mixer(2, "down_proj.weight")).cols());
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, s.get(WeightNames.embeddings()).rows());
        assertArrayEquals(hid, s.get(WeightNames.LM_HEAD).cols());
        assertArrayEquals(hid, s.get(WeightNames.normF()).rows());
        assertEquals(TensorLayout.of(a).size(), s.size());
    }

    @Test
    void aDroppedLayerIsAbsentAndTheRestRenumbered() {
        Architecture a = Architecture.fromConfig(small());
        Map<String, TensorLayout.Selection> s = select(a, handPicked(true));
        assertTrue(s.keySet().stream().noneMatch(n -> n.contains("q_proj") || n.contains("layers.2.")), s.keySet().toString());
        TensorLayout.Selection up = s.get(WeightNames.mixer(1, "up_proj.weight"));
        assertEquals(WeightNames.mixer(2, "up_proj.weight"), up.source().name());
        assertArrayEquals(new int[] {3, 1}, up.rows());
        assertEquals(WeightNames.layerNorm(2), s.get(WeightNames.layerNorm(1)).source().name());
    }

    @Test
    void fullOrdersOfTheIdentityKeepEveryTensor() {
        Architecture a = Architecture.fromConfig(with(TestModels.hybrid(), true, false));
        List<IndexSets.Layer> layers = new ArrayList<>();
        for (LayerSpec l : a.layers()) {
            layers.add(switch (l) {
                case LayerSpec.Mamba m -> new IndexSets.Mamba(TensorLayout.range(m.heads()), TensorLayout.range(m.headDim()));
                case LayerSpec.Attention at -> new IndexSets.Attention(TensorLayout.range(at.heads()));
                case LayerSpec.Mlp f -> new IndexSets.Mlp(TensorLayout.range(f.width()));
            });
        }
        for (TensorLayout.Selection x : TensorLayout.select(a, new IndexSets(TensorLayout.range(a.hiddenSize()), layers))) {
            assertEquals(x.source().name(), x.target());
            assertArrayEquals(TensorLayout.range(x.source().rows().size()), x.rows(), x.target());
            assertArrayEquals(TensorLayout.range(x.source().cols().size()), x.cols(), x.target());
        }
    }

    @Test
    void gatherTakesTheSelectedElements() {
        float[] m = new float[4 * 3];
        for (int i = 0; i < m.length; i++) {
            m[i] = i;   // element (r, c) of a [4, 3] matrix is 3r + c
        }
        assertArrayEquals(new float[] {11, 9, 2, 0}, TensorLayout.gather(m, 3, new int[] {3, 0}, new int[] {2, 0}));
    }

    @Test
    void indexSetsOfTheWrongKindAreRefused() {
        Architecture a = Architecture.fromConfig(small());
        List<IndexSets.Layer> layers = new ArrayList<>(handPicked(false).layers());
        layers.set(2, new IndexSets.Attention(new int[] {0}));
        Exception e = assertThrows(IllegalArgumentException.class,
                () -> TensorLayout.select(a, new IndexSets(new int[] {0}, layers)));
        assertTrue(e.getMessage().contains("MLP") || e.getMessage().contains("Mlp"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TensorLayout.select(a, new IndexSets(new int[] {0}, layers.subList(0, 2))));
    }
}
