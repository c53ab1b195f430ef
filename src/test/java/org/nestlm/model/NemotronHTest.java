package org.nestlm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.io.DType;
import org.nestlm.io.FloatFormats;

import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.nestlm.model.TensorAssertions.assertClose;

/** The three ways to run the DJL model agree, and checkpoints round-trip (docs/ARCHITECTURE.md §4.7). */
class NemotronHTest extends org.nestlm.DjlTestBase {

    static NemotronH model;
    static final int LEN = 41;   // > chunk_size 16, not a multiple of it

    @BeforeAll
    static void build() {
        model = NemotronH.initialize(Architecture.fromConfig(TestModels.hybrid()), 3, manager);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static NDArray ids(NDManager m, int batch, int len, long seed) {
        Random r = new Random(seed);
        long[] ids = new long[batch * len];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.nextInt(96);
        }
        return Tensors.of(m, ids, new Shape(batch, len));
    }

    @Test
    void stepByStepEqualsPrefill() {
        try (NDManager m = manager.newSubManager(); DecodeState state = model.newDecodeState(2)) {
            NDArray ids = ids(m, 2, LEN, 1);
            NDArray full = model.forward(ids);                                     // [2, L, V]
            NDList steps = new NDList();
            for (int t = 0; t < LEN; t++) {
                steps.add(model.step(ids.get(new NDIndex(":, {}", t)), state));    // [2, V]
            }
            assertClose(full, ai.djl.ndarray.NDArrays.stack(steps, 1), 1e-4, "step vs prefill logits");
            assertEquals(LEN, state.position());
        }
    }

    @Test
    void prefillThenStepEqualsPrefill() {
        try (NDManager m = manager.newSubManager(); DecodeState state = model.newDecodeState(2)) {
            NDArray ids = ids(m, 2, LEN, 2);
            NDArray full = model.forward(ids);
            int split = 29;
            NDArray head = model.forward(ids.get(new NDIndex(":, :{}", split)), state);
            assertClose(full.get(new NDIndex(":, :{}", split)), head, 1e-4, "prefill part");
            for (int t = split; t < LEN; t++) {
                NDArray logits = model.step(ids.get(new NDIndex(":, {}", t)), state);
                assertClose(full.get(new NDIndex(":, {}", t)), logits, 1e-4, "decode after prefill, position " + t);
            }
        }
    }

    @Test
    void prefillInPiecesEqualsOnePiece() {
        try (NDManager m = manager.newSubManager(); DecodeState state = model.newDecodeState(1)) {
            NDArray ids = ids(m, 1, LEN, 3);
            NDArray full = model.forward(ids);
            int[] cuts = {0, 5, 6, 23, LEN};   // pieces shorter than the conv kernel, and across chunks
            for (int i = 0; i + 1 < cuts.length; i++) {
                NDIndex piece = new NDIndex(":, {}:{}", cuts[i], cuts[i + 1]);
                assertClose(full.get(piece), model.forward(ids.get(piece), state), 1e-4, "piece " + i);
            }
        }
    }

    @Test
    void chunkSizeDoesNotChangeTheFunction() {
        Map<String, float[]> weights = model.toFloatArrays();
        try (NDManager m = manager.newSubManager()) {
            NDArray ids = ids(m, 1, LEN, 4);
            NDArray reference = model.forward(ids);
            for (int chunk : new int[] {1, 5, 64}) {
                Architecture arch = Architecture.fromConfig(TestModels.hybrid(2, chunk));
                try (NemotronH other = NemotronH.fromTensors(arch, m, weights::get)) {
                    assertClose(reference, other.forward(ids), 1e-4, "chunk " + chunk);
                }
            }
        }
    }

    @Test
    void saveThenLoadGivesIdenticalLogits(@TempDir Path dir) throws Exception {
        model.save(dir, DType.F32);
        try (NDManager m = manager.newSubManager(); Checkpoint ckpt = Checkpoint.open(dir);
             NemotronH loaded = NemotronH.load(ckpt, m)) {
            assertEquals(model.architecture(), ckpt.architecture());
            NDArray ids = ids(m, 1, LEN, 5);
            assertArrayEquals(model.forward(ids).toFloatArray(), loaded.forward(ids).toFloatArray(), 0f);
        }
    }

    @Test
    void bf16CheckpointHoldsRoundedWeights(@TempDir Path dir) throws Exception {
        model.save(dir, DType.BF16);
        try (NDManager m = manager.newSubManager(); Checkpoint ckpt = Checkpoint.open(dir);
             NemotronH loaded = NemotronH.load(ckpt, m)) {
            float[] original = model.parameters().get(WeightNames.mixer(0, "in_proj.weight")).value().toFloatArray();
            float[] stored = loaded.parameters().get(WeightNames.mixer(0, "in_proj.weight")).value().toFloatArray();
            for (int i = 0; i < original.length; i++) {
                assertEquals(FloatFormats.bf16ToFloat(FloatFormats.floatToBf16(original[i])), stored[i], 0f);
            }
        }
    }

    @Test
    void parameterCountEqualsTensorElements() {
        long elements = model.parameters().values().stream().mapToLong(Param::numel).sum();
        assertEquals(model.architecture().parameterCount(), elements);
    }
}
