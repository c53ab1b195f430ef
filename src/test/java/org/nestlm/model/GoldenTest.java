package org.nestlm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * BF16 checkpoints written by an independent implementation (tools/reference: NumPy, fp64, sequential
 * recurrence) load and give that implementation's logits within 1e-4, by the chunked prefill and by the
 * recurrent decode. {@code hybrid-b-hetero} is a sliced checkpoint with per-layer sizes, the {@code model.}
 * prefix, {@code attention_head_dim} and a finite {@code time_step_limit}.
 */
class GoldenTest extends org.nestlm.DjlTestBase {

    static final Path GOLDEN = Path.of("src/test/resources/golden");



    @ParameterizedTest
    @ValueSource(strings = {"hybrid-a/expected.json", "hybrid-a/expected-short.json", "hybrid-b-hetero/expected.json"})
    void logitsMatchTheIndependentReference(String fixture) throws Exception {
        Path file = GOLDEN.resolve(fixture);
        JsonNode expected = ConfigJson.MAPPER.readTree(file.toFile());
        long[] ids = new long[expected.get("ids").size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = expected.get("ids").get(i).asLong();
        }
        try (NDManager m = manager.newSubManager(); Checkpoint ckpt = Checkpoint.open(file.getParent());
             NemotronH model = NemotronH.load(ckpt, m); DecodeState state = model.newDecodeState(1)) {
            NDArray prefill = model.forward(Tensors.of(m, ids, new Shape(1, ids.length)));   // [1, n, V]
            float[] chunked = prefill.toFloatArray();
            int vocab = ckpt.config().vocabSize();
            double worst = 0, worstStep = 0;
            for (int t = 0; t < ids.length; t++) {
                float[] stepped = model.step(Tensors.of(m, new long[] {ids[t]}), state).toFloatArray();
                JsonNode row = expected.get("logits").get(t);
                assertEquals(vocab, row.size());
                for (int v = 0; v < vocab; v++) {
                    double e = row.get(v).asDouble();
                    worst = Math.max(worst, Math.abs(e - chunked[t * vocab + v]));
                    worstStep = Math.max(worstStep, Math.abs(e - stepped[v]));
                }
            }
            assertTrue(worst <= 1e-4, fixture + ": prefill max |Δlogit| " + worst);
            assertTrue(worstStep <= 1e-4, fixture + ": decode max |Δlogit| " + worstStep);
        }
    }

    @org.junit.jupiter.api.Test
    void heterogeneousCheckpointReadsPerLayerSizesFromShapes() throws Exception {
        try (Checkpoint ckpt = Checkpoint.open(GOLDEN.resolve("hybrid-b-hetero"))) {
            Architecture a = ckpt.architecture();
            assertTrue(!a.isHomogeneous());
            assertEquals(new LayerSpec.Mamba(4, 8), a.layers().get(0));
            assertEquals(new LayerSpec.Mamba(6, 8), a.layers().get(3));
            assertEquals(new LayerSpec.Attention(4, 2, 12), a.layers().get(1));
            assertEquals(new LayerSpec.Attention(6, 2, 12), a.layers().get(5));
            assertEquals(new LayerSpec.Mlp(64), a.layers().get(2));
            assertEquals(new LayerSpec.Mlp(40), a.layers().get(4));
            long elements = ckpt.store().tensors().values().stream().mapToLong(org.nestlm.io.TensorEntry::numel).sum();
            assertEquals(elements, a.parameterCount());
            assertTrue(Files.exists(ckpt.dir().resolve("config.json")));
        }
    }
}
