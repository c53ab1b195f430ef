package org.nestlm.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TensorStoreTest {

    @TempDir
    Path dir;

    /** Ten tensors of 4..40 floats with recognisable values: element i of tensor k is k + i / 100. */
    private static List<TensorData> tensors() {
        List<TensorData> out = new ArrayList<>();
        for (int k = 0; k < 10; k++) {
            float[] v = new float[4 * (k + 1)];
            for (int i = 0; i < v.length; i++) {
                v[i] = k + i / 100f;
            }
            out.add(new TensorData("layers." + k + ".w", new long[] {k + 1, 4}, v));
        }
        return out;
    }

    private Set<String> listing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
    }

    private static void assertHoldsAll(TensorStore store, List<TensorData> expected) throws IOException {
        assertEquals(expected.size(), store.names().size());
        long bytes = 0;
        for (TensorData t : expected) {
            assertTrue(store.contains(t.name()));
            TensorEntry e = store.get(t.name());
            assertArrayEquals(t.shape(), e.shape());
            assertArrayEquals(t.values(), e.toFloatArray());
            assertArrayEquals(t.shape(), store.shapes().get(t.name()));
            bytes += 4L * t.values().length;
        }
        assertEquals(bytes, store.totalBytes());
    }

    @Test
    void singleFileCheckpoint() throws IOException {
        SafetensorsWriter.writeCheckpoint(dir, tensors(), DType.F32, 1L << 30);
        assertEquals(Set.of("model.safetensors"), listing());
        try (TensorStore store = TensorStore.open(dir)) {
            assertHoldsAll(store, tensors());
            assertEquals(List.of(dir.resolve("model.safetensors")), store.files());
        }
        try (TensorStore store = TensorStore.open(dir.resolve("model.safetensors"))) {
            assertHoldsAll(store, tensors());
        }
    }

    @Test
    void shardedCheckpointRoundTrip() throws IOException {
        // 4*(1..10)*4 bytes = 16..160 bytes per tensor, 880 in all; at most 200 bytes a shard.
        SafetensorsWriter.writeCheckpoint(dir, tensors(), DType.F32, 200);
        Set<String> files = listing();
        assertTrue(files.contains("model.safetensors.index.json"), files.toString());
        assertFalse(files.contains("model.safetensors"));
        List<String> shards = files.stream().filter(f -> f.endsWith(".safetensors")).sorted().toList();
        int n = shards.size();
        assertTrue(n > 1);
        for (int i = 0; i < n; i++) {
            assertEquals(String.format("model-%05d-of-%05d.safetensors", i + 1, n), shards.get(i));
            try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(shards.get(i)))) {
                long data = f.tensors().values().stream().mapToLong(TensorEntry::byteSize).sum();
                assertTrue(data <= 200 || f.tensors().size() == 1, shards.get(i) + " holds " + data + " bytes");
            }
        }
        JsonNode index = new ObjectMapper().readTree(dir.resolve("model.safetensors.index.json").toFile());
        assertEquals(880, index.get("metadata").get("total_size").asLong());
        assertEquals(10, index.get("weight_map").size());

        try (TensorStore store = TensorStore.open(dir)) {
            assertHoldsAll(store, tensors());
            assertEquals(n, store.files().size());
        }
        try (TensorStore store = TensorStore.open(dir.resolve("model.safetensors.index.json"))) {
            assertHoldsAll(store, tensors());
        }
    }

    @Test
    void tensorLargerThanTheShardLimitGetsItsOwnShard() throws IOException {
        List<TensorData> in = List.of(new TensorData("a", new long[] {100}, new float[100]),
                new TensorData("b", new long[] {2}, new float[2]), new TensorData("c", new long[] {2}, new float[2]));
        SafetensorsWriter.writeCheckpoint(dir, in, DType.BF16, 64);
        try (TensorStore store = TensorStore.open(dir)) {
            assertEquals(2, store.files().size(), "a alone (200 bytes > 64), then b + c");
            assertEquals(DType.BF16, store.get("a").dtype());
            assertEquals(208, store.totalBytes());
        }
    }

    @Test
    void rewritingRemovesTheStaleLayout() throws IOException {
        SafetensorsWriter.writeCheckpoint(dir, tensors(), DType.F32, 1L << 30);
        Files.writeString(dir.resolve("config.json"), "{}");
        SafetensorsWriter.writeCheckpoint(dir, tensors(), DType.F32, 300);
        assertFalse(listing().contains("model.safetensors"), "a stale single file would shadow the index");
        int shardsBefore = (int) listing().stream().filter(f -> f.startsWith("model-")).count();
        SafetensorsWriter.writeCheckpoint(dir, tensors(), DType.F32, 100);  // more, smaller shards
        int shardsAfter = (int) listing().stream().filter(f -> f.startsWith("model-")).count();
        assertTrue(shardsAfter > shardsBefore);
        try (TensorStore store = TensorStore.open(dir)) {
            assertHoldsAll(store, tensors());
            assertEquals(shardsAfter, store.files().size(), "no old-generation shards left behind");
        }
        SafetensorsWriter.writeCheckpoint(dir, tensors(), DType.F32, 1L << 30);
        assertEquals(Set.of("model.safetensors", "config.json"), listing());
    }

    @Test
    void missingTensor() throws IOException {
        SafetensorsWriter.writeCheckpoint(dir, tensors(), DType.F32, 1L << 30);
        try (TensorStore store = TensorStore.open(dir)) {
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> store.get("nope"));
            assertEquals(dir + ": missing tensor 'nope'", e.getMessage());
            assertTrue(store.find("nope").isEmpty());
            assertTrue(store.find("layers.0.w").isPresent());
        }
    }

    @Test
    void indexNamingAMissingShard() throws IOException {
        SafetensorsWriter.writeCheckpoint(dir, tensors(), DType.F32, 200);
        Files.delete(dir.resolve(String.format("model-%05d-of-%05d.safetensors", 2,
                listing().stream().filter(f -> f.startsWith("model-")).count())));
        Path index = dir.resolve("model.safetensors.index.json");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TensorStore.open(dir));
        assertTrue(e.getMessage().startsWith(index + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("model-00002-of-") && e.getMessage().contains("does not exist"),
                e.getMessage());
    }

    @Test
    void indexNamingATensorItsShardLacks() throws IOException {
        SafetensorsWriter.write(dir.resolve("part.safetensors"), List.of(tensors().get(0)), DType.F32, Map.of());
        Path index = dir.resolve("model.safetensors.index.json");
        Files.writeString(index, "{\"metadata\":{},\"weight_map\":{\"layers.0.w\":\"part.safetensors\","
                + "\"layers.9.w\":\"part.safetensors\"}}");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TensorStore.open(dir));
        assertTrue(e.getMessage().startsWith(index + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("'layers.9.w'") && e.getMessage().contains("part.safetensors"),
                e.getMessage());
    }

    @Test
    void indexMayNotEscapeItsDirectory() throws IOException {
        Files.writeString(dir.resolve("model.safetensors.index.json"),
                "{\"weight_map\":{\"w\":\"../elsewhere.safetensors\"}}");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TensorStore.open(dir));
        assertTrue(e.getMessage().contains("not a file in the index's directory"), e.getMessage());
    }

    @Test
    void malformedIndex() throws IOException {
        Path index = dir.resolve("model.safetensors.index.json");
        Files.writeString(index, "{\"weight_map\": ");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TensorStore.open(dir));
        assertTrue(e.getMessage().startsWith(index + ": index is not valid JSON"), e.getMessage());
        Files.writeString(index, "{\"metadata\": {}}");
        e = assertThrows(CheckpointFormatException.class, () -> TensorStore.open(dir));
        assertTrue(e.getMessage().contains("weight_map"), e.getMessage());
    }

    @Test
    void fallbackReadsAllSafetensorsFilesAndRejectsDuplicates() throws IOException {
        List<TensorData> all = tensors();
        SafetensorsWriter.write(dir.resolve("a.safetensors"), all.subList(0, 4), DType.F32, Map.of());
        SafetensorsWriter.write(dir.resolve("b.safetensors"), all.subList(4, 10), DType.F32, Map.of());
        try (TensorStore store = TensorStore.open(dir)) {
            assertHoldsAll(store, all);
        }
        SafetensorsWriter.write(dir.resolve("c.safetensors"), all.subList(3, 5), DType.F32, Map.of());
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TensorStore.open(dir));
        assertTrue(e.getMessage().startsWith(dir + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("'layers.3.w'") && e.getMessage().contains("a.safetensors")
                && e.getMessage().contains("c.safetensors"), e.getMessage());
    }

    @Test
    void emptyOrMissingDirectory() throws IOException {
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TensorStore.open(dir));
        assertTrue(e.getMessage().startsWith(dir + ": ") && e.getMessage().contains("no model.safetensors"),
                e.getMessage());
        assertThrows(java.nio.file.NoSuchFileException.class, () -> TensorStore.open(dir.resolve("absent")));
    }

    @Test
    void badShardIsReportedWithItsOwnName() throws IOException {
        SafetensorsWriter.write(dir.resolve("a.safetensors"), tensors().subList(0, 1), DType.F32, Map.of());
        Files.write(dir.resolve("b.safetensors"), new byte[3]);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TensorStore.open(dir));
        assertTrue(e.getMessage().startsWith(dir.resolve("b.safetensors") + ": truncated"), e.getMessage());
    }
}
