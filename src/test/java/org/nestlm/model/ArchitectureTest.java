package org.nestlm.model;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Per-layer sizes from tensor shapes, and the parameter count against the tensor elements. */
class ArchitectureTest {

    @Test
    void fromShapesOfAHomogeneousModelIsFromConfig() {
        Architecture a = Architecture.fromConfig(TestModels.hybrid());
        assertEquals(a, Architecture.fromShapes(a.config(), a.tensorShapes(), "test"));
        assertTrue(a.isHomogeneous());
    }

    @Test
    void parameterCountIsTheNumberOfTensorElements() {
        for (ModelConfig c : new ModelConfig[] {TestModels.hybrid(), Presets.get("tiny"), Presets.get("small")}) {
            Architecture a = Architecture.fromConfig(c);
            long elements = a.tensorShapes().values().stream().mapToLong(Initializer::numel).sum();
            assertEquals(elements, a.parameterCount());
        }
    }

    @Test
    void slicedShapesGivePerLayerSizes() {
        ModelConfig c = TestModels.hybrid();
        Map<String, long[]> shapes = new LinkedHashMap<>(Architecture.fromConfig(c).tensorShapes());
        // layer 3 (Mamba) keeps 4 of 6 heads (2 per group); layer 2 (MLP) keeps 33 neurons; layer 1 (attention) 4 of 6 heads
        Architecture sliced = new Architecture(c, 48, java.util.List.of(
                new LayerSpec.Mamba(6, 10), new LayerSpec.Attention(4, 2, 12), new LayerSpec.Mlp(33),
                new LayerSpec.Mamba(4, 10), new LayerSpec.Mlp(80), new LayerSpec.Attention(6, 2, 12), new LayerSpec.Mamba(6, 10)));
        shapes.clear();
        shapes.putAll(sliced.tensorShapes());
        Architecture read = Architecture.fromShapes(c, shapes, "sliced");
        assertEquals(sliced, read);
        assertTrue(!read.isHomogeneous());
        assertEquals(new LayerSpec.Mamba(4, 10), read.layers().get(3));
    }

    @Test
    void missingOrMisshapedTensorsAreNamed() {
        ModelConfig c = TestModels.hybrid();
        Map<String, long[]> shapes = new LinkedHashMap<>(Architecture.fromConfig(c).tensorShapes());
        shapes.remove(WeightNames.mixer(2, "down_proj.weight"));
        Exception e = assertThrows(IllegalArgumentException.class, () -> Architecture.fromShapes(c, shapes, "ckpt"));
        assertTrue(e.getMessage().contains("missing tensor 'backbone.layers.2.mixer.down_proj.weight'"), e.getMessage());

        shapes.put(WeightNames.mixer(2, "down_proj.weight"), new long[] {48, 79});
        e = assertThrows(IllegalArgumentException.class, () -> Architecture.fromShapes(c, shapes, "ckpt"));
        assertTrue(e.getMessage().contains("down_proj.weight has shape [48, 79]"), e.getMessage());

        Map<String, long[]> bad = new LinkedHashMap<>(Architecture.fromConfig(c).tensorShapes());
        bad.put(WeightNames.mixer(0, "A_log"), new long[] {7});   // 60 inner channels are not 7 heads
        e = assertThrows(IllegalArgumentException.class, () -> Architecture.fromShapes(c, bad, "ckpt"));
        assertTrue(e.getMessage().contains("layer 0"), e.getMessage());
    }

    @Test
    void mambaHeadsMustDivideIntoGroups() {
        ModelConfig c = TestModels.hybrid();
        Exception e = assertThrows(IllegalArgumentException.class, () -> new Architecture(c, 48, java.util.List.of(
                new LayerSpec.Mamba(5, 10), new LayerSpec.Attention(6, 2, 12), new LayerSpec.Mlp(80),
                new LayerSpec.Mamba(6, 10), new LayerSpec.Mlp(80), new LayerSpec.Attention(6, 2, 12), new LayerSpec.Mamba(6, 10))));
        assertTrue(e.getMessage().contains("not divisible by n_groups"), e.getMessage());
    }
}
