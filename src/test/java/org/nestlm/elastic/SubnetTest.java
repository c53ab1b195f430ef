package org.nestlm.elastic;

import org.nestlm.slice.Slicer;
import org.nestlm.sizes.Subnet;

import ai.djl.ndarray.NDArray;
import org.nestlm.model.Tensors;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nestlm.model.Architecture;
import org.nestlm.model.LayerSpec;
import org.nestlm.model.NemotronH;
import org.nestlm.model.TestModels;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The masked forward of a sub-model equals the forward of the physically cut-out model (docs/METHOD.md §4.4). */
class SubnetTest extends org.nestlm.DjlTestBase {

    static NemotronH model;
    static Architecture full;

    @BeforeAll
    static void build() {
        full = Architecture.fromConfig(TestModels.hybrid());
        model = NemotronH.initialize(full, 11, manager);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** A random sub-model of the test architecture (G = 2 Mamba groups of 3 heads, 2 KV groups of 3 query heads). */
    static Subnet random(Random r, boolean drops) {
        List<LayerSpec> layers = new ArrayList<>();
        List<Boolean> kept = new ArrayList<>();
        for (LayerSpec f : full.layers()) {
            layers.add(switch (f) {
                case LayerSpec.Mamba m -> new LayerSpec.Mamba(2 * (1 + r.nextInt(3)), 1 + r.nextInt(m.headDim()));
                case LayerSpec.Attention a -> new LayerSpec.Attention(2 * (1 + r.nextInt(3)), a.kvHeads(), a.headDim());
                case LayerSpec.Mlp p -> new LayerSpec.Mlp(1 + r.nextInt(p.width()));
            });
            kept.add(!drops || r.nextInt(4) != 0);
        }
        if (!kept.contains(true)) {
            kept.set(0, true);
        }
        return new Subnet(1 + r.nextInt(full.hiddenSize()), layers, kept).validate(full);
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8})
    void maskedForwardEqualsCutOutModel(int seed) {
        Subnet s = random(new Random(seed), seed % 2 == 0);
        Map<String, float[]> weights = model.toFloatArrays();
        Architecture cut = s.architecture(full.config());
        Map<String, float[]> sliced = Slicer.slice(full, s, weights::get);
        long elements = sliced.values().stream().mapToLong(v -> v.length).sum();
        assertEquals(s.parameterCount(full.config()), elements, "parameter count = elements of the slice");
        try (NDManager m = manager.newSubManager(); NemotronH small = NemotronH.fromTensors(cut, m, sliced::get)) {
            Random r = new Random(seed);
            long[] ids = new long[2 * 37];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = r.nextInt(96);
            }
            NDArray x = Tensors.of(m, ids, new Shape(2, 37));                // 37 > chunk 16
            float[] masked = model.forward(x, SubnetMasks.hard(m, full, s)).toFloatArray();
            float[] expected = small.forward(x).toFloatArray();
            double max = 0;
            for (int i = 0; i < masked.length; i++) {
                max = Math.max(max, Math.abs(masked[i] - expected[i]));
            }
            assertTrue(max <= 1e-5, "max |masked − cut-out| = " + max + " for " + s);
        }
    }

    @Test
    void fullSubnetIsTheModelItself() {
        Subnet s = Subnet.full(full);
        assertEquals(full.parameterCount(), s.parameterCount(full.config()));
        try (NDManager m = manager.newSubManager()) {
            NDArray x = Tensors.of(m, new long[] {1, 2, 3, 4, 5}, new Shape(1, 5));
            assertEquals(model.forward(x).toFloatArray().length, model.forward(x, SubnetMasks.hard(m, full, s)).toFloatArray().length);
            float[] a = model.forward(x).toFloatArray(), b = model.forward(x, SubnetMasks.hard(m, full, s)).toFloatArray();
            for (int i = 0; i < a.length; i++) {
                assertEquals(a[i], b[i], 0f);
            }
        }
    }

    @Test
    void invalidSubnetsAreRejected() {
        List<LayerSpec> layers = new ArrayList<>(full.layers());
        List<Boolean> kept = new ArrayList<>(java.util.Collections.nCopies(layers.size(), true));
        layers.set(0, new LayerSpec.Mamba(3, 10));   // 3 heads do not split into 2 groups
        Exception e = assertThrows(IllegalArgumentException.class, () -> new Subnet(48, layers, kept).validate(full));
        assertTrue(e.getMessage().contains("layer 0"), e.getMessage());
        layers.set(0, full.layers().get(0));
        e = assertThrows(IllegalArgumentException.class, () -> new Subnet(49, layers, kept).validate(full));
        assertTrue(e.getMessage().contains("hidden size 49"), e.getMessage());
    }
}
