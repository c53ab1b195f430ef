package org.nestlm.slice;

import org.nestlm.elastic.SubnetMasks;
import ai.djl.ndarray.NDManager;
import org.nestlm.model.Tensors;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.nestlm.train.RunDirectory;
import org.nestlm.train.RunFixtures;

import java.io.IOException;
import java.nio.channels.FileChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nestlm.sizes.Subnet;
import org.nestlm.infer.Engine;
import org.nestlm.infer.InferTestModels;
import org.nestlm.model.Checkpoint;
import org.nestlm.io.DType;
import org.nestlm.model.Architecture;
import org.nestlm.model.ConfigJson;
import org.nestlm.model.NemotronH;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Slicing an elastic checkpoint: the sliced checkpoint is the nested model (DJL masked forward on the full
 * weights = DJL forward of the slice = pure-Java engine on the slice = pure-Java engine on views of the full
 * mapping), its size is the predicted one, and its config is stock unless the layers differ in size.
 */
class SliceTest extends org.nestlm.DjlTestBase {

    @TempDir
    static Path tmp;
    static Path elastic;
    static Checkpoint full;
    static NemotronH net;

    @BeforeAll
    static void build() throws Exception {
        elastic = ElasticFixtures.write(tmp.resolve("elastic"), DType.F32, 7);
        full = Checkpoint.open(elastic);
        net = NemotronH.load(full, manager);
    }

    @AfterAll
    static void close() {
        net.close();
        full.close();
    }

    static Subnet subnet(int which) {
        return which < 2 ? ElasticFixtures.subnet(which) : ElasticFixtures.custom();
    }

    @ParameterizedTest(name = "sub-model {0}")
    @ValueSource(ints = {0, 1, 2})
    void planEqualsSubnetSlice(int which) {
        Subnet s = subnet(which);
        Architecture arch = full.architecture();
        Map<String, float[]> expected = Slicer.slice(arch, s, full::floats);
        SlicePlan plan = SlicePlan.of(arch, s);
        assertEquals(expected.keySet(), plan.cuts().keySet());
        for (SlicePlan.Cut k : plan.cuts().values()) {
            assertArrayEquals(expected.get(k.target()), k.gather(full.floats(k.source())), k.target());
        }
        assertEquals(s.parameterCount(arch.config()), plan.parameterCount());
    }

    @ParameterizedTest(name = "sub-model {0}")
    @ValueSource(ints = {0, 1, 2})
    void slicedCheckpointIsTheNestedModel(int which) throws Exception {
        Subnet s = subnet(which);
        Path out = tmp.resolve("sliced-" + which);
        Slicer.write(full, s, "test", out, DType.F32);
        int[] ids = InferTestModels.ids(29, full.config().vocabSize(), 11 + which);
        long[] lids = java.util.Arrays.stream(ids).asLongStream().toArray();
        try (Checkpoint sliced = Checkpoint.open(out); NDManager m = manager.newSubManager();
             NemotronH small = NemotronH.load(sliced, m);
             Engine onSlice = Engine.open(out, 2);
             Engine onViews = Engine.open(elastic, 2, s)) {
            assertEquals(s.architecture(full.config()).layers(), sliced.architecture().layers());
            assertEquals(s.parameterCount(full.config()), sliced.architecture().parameterCount(), "predicted parameter count");
            long elements = sliced.store().tensors().values().stream().mapToLong(t -> t.numel()).sum();
            assertEquals(sliced.architecture().parameterCount(), elements, "tensor elements");
            float[] masked = net.forward(Tensors.of(m, lids, new Shape(1, ids.length)), SubnetMasks.hard(m, full.architecture(), s)).toFloatArray();
            float[] djlSlice = small.forward(Tensors.of(m, lids, new Shape(1, ids.length))).toFloatArray();
            double d = InferTestModels.maxAbsDiff(masked, djlSlice);
            assertTrue(d <= 1e-5, "DJL: masked vs sliced " + d);
            float[] e1 = onSlice.forward(onSlice.newState(), ids, true);
            float[] e2 = onViews.forward(onViews.newState(), ids, true);
            assertTrue(InferTestModels.maxAbsDiff(e1, e2) <= 1e-5, "engine: slice vs views " + InferTestModels.maxAbsDiff(e1, e2));
            assertTrue(InferTestModels.maxAbsDiff(masked, e2) <= 1e-4, "engine views vs DJL masked " + InferTestModels.maxAbsDiff(masked, e2));
            assertEquals(s.parameterCount(full.config()), onViews.parameterCount());
        }
    }

    /**
     * BF16 weights read through views (row indices, column blocks, the SIMD kernel's arranged activations) give
     * what the same BF16 weights give once sliced into a dense checkpoint.
     */
    @ParameterizedTest(name = "sub-model {0}")
    @ValueSource(ints = {0, 1, 2})
    void bf16ViewsEqualTheBf16Slice(int which) throws Exception {
        Subnet s = subnet(which);
        Path source = tmp.resolve("elastic-bf16-" + which), out = tmp.resolve("sliced-bf16-" + which);
        ElasticFixtures.write(source, DType.BF16, 7);
        try (Checkpoint src = Checkpoint.open(source)) {
            Slicer.write(src, s, "test", out, DType.BF16);
        }
        int[] ids = InferTestModels.ids(29, full.config().vocabSize(), 5 + which);
        try (Engine onSlice = Engine.open(out, 2); Engine onViews = Engine.open(source, 2, s)) {
            float[] e1 = onSlice.forward(onSlice.newState(), ids, true);
            float[] e2 = onViews.forward(onViews.newState(), ids, true);
            double d = InferTestModels.maxAbsDiff(e1, e2);
            assertTrue(d <= 1e-5, "engine on BF16: slice vs views " + d);
        }
    }

    @Test
    void configIsStockWhenHomogeneousAndListsLayersOtherwise() throws Exception {
        Path homo = tmp.resolve("cfg-homo"), hetero = tmp.resolve("cfg-hetero");
        Slicer.write(full, ElasticFixtures.subnet(1), "50%", homo, DType.BF16);
        Slicer.write(full, ElasticFixtures.subnet(0), "75%", hetero, DType.BF16);
        JsonNode h = ConfigJson.MAPPER.readTree(homo.resolve("config.json").toFile());
        assertFalse(h.has(SlicedConfig.LAYERS_FIELD));
        assertEquals(24, h.get("hidden_size").asInt());
        assertEquals("M*--*M", h.get("hybrid_override_pattern").asText(), "layer 3 (Mamba) dropped");
        assertEquals(24, h.get("intermediate_size").asInt());
        assertEquals(2, h.get("mamba_num_heads").asInt());
        assertEquals(2, h.get("num_attention_heads").asInt());
        assertEquals("50%", h.get(SlicedConfig.SLICE_FIELD).get("budget").asText());
        JsonNode x = ConfigJson.MAPPER.readTree(hetero.resolve("config.json").toFile());
        JsonNode layers = x.get(SlicedConfig.LAYERS_FIELD);
        assertEquals(7, layers.size());
        assertEquals(36, layers.get(2).get("width").asInt());
        assertEquals(24, layers.get(4).get("width").asInt());
        try (Checkpoint c = Checkpoint.open(hetero)) {
            assertEquals(DType.BF16, c.tensor("lm_head.weight").dtype());
        }
    }

    @Test
    void shardsWhenLarge() throws Exception {
        Path out = tmp.resolve("sharded");
        Slicer.write(full, ElasticFixtures.subnet(0), "75%", out, DType.F32, 2000);
        assertTrue(Files.exists(out.resolve("model.safetensors.index.json")));
        try (Checkpoint c = Checkpoint.open(out); Engine a = Engine.open(out, 1); Engine b = Engine.open(elastic, 1, ElasticFixtures.subnet(0))) {
            int[] ids = InferTestModels.ids(9, 64, 1);
            assertTrue(InferTestModels.maxAbsDiff(a.forward(a.newState(), ids, true), b.forward(b.newState(), ids, true)) <= 1e-5);
            assertEquals(ElasticFixtures.subnet(0).parameterCount(full.config()), c.architecture().parameterCount());
        }
    }

    @Test
    void theSliceGetsTheUmaskOfAnyNewDirectoryAndFile() throws Exception {
        Files.writeString(elastic.resolve("tokenizer.json"), "{}");
        try {
            Path out = tmp.resolve("umask");
            Slicer.write(full, ElasticFixtures.subnet(1), "50%", out, DType.F32);
            Path refDir = Files.createDirectory(tmp.resolve("umask-reference"));
            Path refFile = Files.writeString(refDir.resolve("f"), "x");
            assertEquals(Files.getPosixFilePermissions(refDir), Files.getPosixFilePermissions(out));
            for (String f : List.of("config.json", "model.safetensors", "tokenizer.json")) {
                assertEquals(Files.getPosixFilePermissions(refFile), Files.getPosixFilePermissions(out.resolve(f)), f);
            }
            assertFalse(Files.exists(out.resolve(RunDirectory.LOCK_FILE)), "the lock stays out of the checkpoint");
        } finally {
            Files.delete(elastic.resolve("tokenizer.json"));
        }
    }

    @Test
    void theLeftoversOfAKilledSliceAreRemovedAtTheNextStart() throws Exception {
        Path out = tmp.resolve("killed");
        Path old = Files.createDirectories(tmp.resolve(".killed.slicing-8127364"));   // earlier versions' name
        Files.writeString(old.resolve("model.safetensors"), "half");
        Path work = Files.createDirectories(tmp.resolve(".killed.slicing"));
        Files.writeString(work.resolve(".model.safetensors.1f2e.tmp"), "half");
        Files.writeString(work.resolve("config.json"), "{}");
        Slicer.write(full, ElasticFixtures.subnet(1), "50%", out, DType.F32);
        assertEquals(List.of("config.json", "model.safetensors"), RunFixtures.names(out));
        try (var s = Files.list(tmp)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".killed")));
        }
    }

    @Test
    void aSecondSliceIntoTheSameDirectoryFailsAtOnce() throws Exception {
        Path out = tmp.resolve("busy-slice");
        try (FileChannel other = RunFixtures.lockAsAnotherProcess(tmp.resolve(".busy-slice.slicing"))) {
            IOException e = assertThrows(RunDirectory.InUseException.class,
                    () -> Slicer.write(full, ElasticFixtures.subnet(1), "50%", out, DType.F32));
            assertTrue(e.getMessage().startsWith(out + " is being written by another slice"), e.getMessage());
            assertFalse(Files.exists(out));
        }
    }

    @Test
    void refusesAnExistingDirectoryAndLeavesNoTemporary() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("busy"));
        Files.writeString(out.resolve("x"), "x");
        assertThrows(java.nio.file.FileAlreadyExistsException.class,
                () -> Slicer.write(full, ElasticFixtures.subnet(1), "50%", out, DType.F32));
        try (var s = Files.list(tmp)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().contains(".slicing")));
        }
    }
}
