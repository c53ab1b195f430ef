package org.nestlm.io;

import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Writes safetensors files and sharded checkpoints.
 *
 * <p>Output is canonical, so the same input always gives the same bytes: tensors sorted by name, data packed
 * contiguously in that order, header {@code {"__metadata__": {"format": "pt", <metadata sorted by key>},
 * <tensors>}} as compact JSON padded with spaces to a multiple of 8 bytes (as the reference Rust implementation
 * does, so the data section starts 8-byte aligned). Every file is written through {@link AtomicFiles}.
 */
public final class SafetensorsWriter {

    private SafetensorsWriter() {
    }

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** Bytes encoded per channel write: large enough to amortise the call, small enough to stay in cache. */
    private static final int CHUNK_BYTES = 1 << 20;

    private static final Pattern SHARD_NAME = Pattern.compile("model-\\d{5,}-of-\\d{5,}\\.safetensors");

    /**
     * Writes {@code tensors} encoded as {@code dtype} (F32, BF16 or F16) to {@code file}, atomically.
     *
     * @param metadata extra {@code __metadata__} entries (sorted by key in the output; may override "format");
     *                 null means none
     * @throws IllegalArgumentException for another dtype, duplicate names or the reserved name "__metadata__"
     */
    public static void write(Path file, List<TensorData> tensors, DType dtype, Map<String, String> metadata)
            throws IOException {
        checkWritableDType(dtype);
        List<Payload> payloads = new ArrayList<>(tensors.size());
        for (TensorData t : tensors) {
            payloads.add(new FloatPayload(t, dtype));
        }
        writeFile(file, sortedUnique(payloads), metadata);
    }

    /** Writes already-encoded entries unchanged (e.g. BF16 copied from another file), atomically. */
    public static void writeEntries(Path file, List<TensorEntry> tensors, Map<String, String> metadata)
            throws IOException {
        List<Payload> payloads = new ArrayList<>(tensors.size());
        for (TensorEntry e : tensors) {
            payloads.add(new RawPayload(e));
        }
        writeFile(file, sortedUnique(payloads), metadata);
    }

    /**
     * Writes a checkpoint into {@code dir}: {@code model.safetensors} if all tensor data fits in
     * {@code maxShardBytes}, else {@code model-00001-of-0000N.safetensors} shards (tensors in name order, each
     * shard filled until the next tensor would pass the limit; a tensor larger than the limit gets a shard of its
     * own) plus {@code model.safetensors.index.json}. Every file is written atomically.
     *
     * <p>Weight files of an earlier checkpoint in {@code dir} that would otherwise shadow or mix with the new one
     * ({@code model.safetensors}, the index, {@code model-NNNNN-of-NNNNN.safetensors} not written now) are deleted;
     * nothing else in {@code dir} is touched.
     */
    public static void writeCheckpoint(Path dir, List<TensorData> tensors, DType dtype, long maxShardBytes)
            throws IOException {
        checkWritableDType(dtype);
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("maxShardBytes must be positive, got " + maxShardBytes);
        }
        List<Payload> payloads = new ArrayList<>(tensors.size());
        for (TensorData t : tensors) {
            payloads.add(new FloatPayload(t, dtype));
        }
        List<Payload> sorted = sortedUnique(payloads);

        List<List<Payload>> shards = new ArrayList<>();
        List<Payload> current = new ArrayList<>();
        long currentBytes = 0;
        long totalBytes = 0;
        for (Payload p : sorted) {
            if (!current.isEmpty() && currentBytes + p.byteSize() > maxShardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.add(p);
            currentBytes += p.byteSize();
            totalBytes += p.byteSize();
        }
        shards.add(current);

        Files.createDirectories(dir);
        Path single = dir.resolve(TensorStore.SINGLE_FILE);
        Path index = dir.resolve(TensorStore.INDEX_FILE);
        if (shards.size() == 1) {
            writeFile(single, shards.getFirst(), Map.of());
            // model.safetensors is preferred by readers, so the new data is already what they see.
            Files.deleteIfExists(index);
            deleteStaleShards(dir, Set.of());
            return;
        }
        // A stale model.safetensors would be preferred over the new index: remove it first.
        Files.deleteIfExists(single);
        int n = shards.size();
        Set<String> written = new HashSet<>();
        TreeMap<String, String> weightMap = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            String name = String.format("model-%05d-of-%05d.safetensors", i + 1, n);
            writeFile(dir.resolve(name), shards.get(i), Map.of());
            written.add(name);
            for (Payload p : shards.get(i)) {
                weightMap.put(p.name(), name);
            }
        }
        ObjectNode root = MAPPER.createObjectNode();
        root.putObject("metadata").put("total_size", totalBytes);
        ObjectNode wm = root.putObject("weight_map");
        weightMap.forEach(wm::put);
        // Hugging Face style: two-space indent, "key": value, trailing newline.
        DefaultPrettyPrinter pretty = new DefaultPrettyPrinter(Separators.createDefaultInstance()
                .withObjectFieldValueSpacing(Separators.Spacing.AFTER));
        String json = MAPPER.writer(pretty).writeValueAsString(root) + "\n";
        AtomicFiles.writeString(index, json);
        deleteStaleShards(dir, written);
    }

    private static void deleteStaleShards(Path dir, Set<String> keep) throws IOException {
        List<Path> stale = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "model-*-of-*.safetensors")) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (SHARD_NAME.matcher(name).matches() && !keep.contains(name)) {
                    stale.add(p);
                }
            }
        }
        for (Path p : stale) {
            Files.deleteIfExists(p);
        }
    }

    private static void checkWritableDType(DType dtype) {
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
            throw new IllegalArgumentException("can write float tensors only as F32, BF16 or F16, not " + dtype);
        }
    }

    private static List<Payload> sortedUnique(List<Payload> payloads) {
        List<Payload> sorted = new ArrayList<>(payloads);
        sorted.sort(Comparator.comparing(Payload::name));
        for (int i = 0; i < sorted.size(); i++) {
            String name = sorted.get(i).name();
            if (name.equals(SafetensorsHeader.METADATA_KEY)) {
                throw new IllegalArgumentException("tensor name '" + name + "' is reserved for the metadata");
            }
            if (i > 0 && name.equals(sorted.get(i - 1).name())) {
                throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
            }
        }
        return sorted;
    }

    /** Header bytes (JSON + space padding) for tensors already in output order, data offsets contiguous. */
    static byte[] header(List<Payload> sorted, Map<String, String> metadata) throws IOException {
        ObjectNode root = MAPPER.createObjectNode();
        ObjectNode meta = root.putObject(SafetensorsHeader.METADATA_KEY);
        meta.put("format", "pt");
        new TreeMap<>(metadata == null ? Map.<String, String>of() : metadata).forEach((k, v) ->
                meta.put(k, Objects.requireNonNull(v, () -> "metadata value for key '" + k + "' is null")));
        long offset = 0;
        for (Payload p : sorted) {
            ObjectNode e = root.putObject(p.name());
            e.put("dtype", p.dtype().name());
            ArrayNode shape = e.putArray("shape");
            for (long d : p.shape()) {
                shape.add(d);
            }
            ArrayNode offsets = e.putArray("data_offsets");
            offsets.add(offset);
            offsets.add(offset + p.byteSize());
            offset += p.byteSize();
        }
        byte[] json = MAPPER.writeValueAsBytes(root);
        int padded = (json.length + 7) & ~7;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private static void writeFile(Path file, List<Payload> sorted, Map<String, String> metadata) throws IOException {
        byte[] header = header(sorted, metadata);
        AtomicFiles.write(file, ch -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).flip();
            AtomicFiles.writeFully(ch, len);
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(header));
            ByteBuffer scratch = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            for (Payload p : sorted) {
                p.writeTo(ch, scratch);
            }
        });
    }

    /** A tensor as the writer sees it: header fields plus a way to stream its encoded bytes. */
    private sealed interface Payload permits FloatPayload, RawPayload {
        String name();

        DType dtype();

        long[] shape();

        long byteSize();

        /** Appends exactly {@link #byteSize()} bytes to {@code ch}; {@code scratch} is a little-endian buffer. */
        void writeTo(FileChannel ch, ByteBuffer scratch) throws IOException;
    }

    /** Float values encoded on the fly as F32, BF16 or F16. */
    private record FloatPayload(TensorData tensor, DType dtype) implements Payload {
        @Override
        public String name() {
            return tensor.name();
        }

        @Override
        public long[] shape() {
            return tensor.shape();
        }

        @Override
        public long byteSize() {
            return (long) tensor.values().length * dtype.byteSize();
        }

        @Override
        public void writeTo(FileChannel ch, ByteBuffer scratch) throws IOException {
            float[] v = tensor.values();
            int perChunk = scratch.capacity() / dtype.byteSize();
            // ofBuffer views position..limit, so take the view of the whole, cleared buffer.
            MemorySegment seg = MemorySegment.ofBuffer(scratch.clear());
            for (int start = 0; start < v.length; start += perChunk) {
                int count = Math.min(perChunk, v.length - start);
                scratch.clear();
                switch (dtype) {
                    case F32 -> MemorySegment.copy(v, start, seg, LittleEndian.F32, 0, count);
                    case BF16 -> {
                        for (int i = 0; i < count; i++) {
                            seg.set(LittleEndian.I16, 2L * i, FloatFormats.floatToBf16(v[start + i]));
                        }
                    }
                    case F16 -> {
                        for (int i = 0; i < count; i++) {
                            seg.set(LittleEndian.I16, 2L * i, FloatFormats.floatToF16(v[start + i]));
                        }
                    }
                    default -> throw new IllegalStateException("unreachable: " + dtype);
                }
                scratch.limit(count * dtype.byteSize());
                AtomicFiles.writeFully(ch, scratch);
            }
        }
    }

    /** Bytes copied unchanged from an existing entry (typically a slice of another mapped file). */
    private record RawPayload(TensorEntry entry) implements Payload {
        @Override
        public String name() {
            return entry.name();
        }

        @Override
        public DType dtype() {
            return entry.dtype();
        }

        @Override
        public long[] shape() {
            return entry.shape();
        }

        @Override
        public long byteSize() {
            return entry.byteSize();
        }

        @Override
        public void writeTo(FileChannel ch, ByteBuffer scratch) throws IOException {
            MemorySegment data = entry.data();
            // asByteBuffer is limited to 2 GiB, so large tensors go out in chunks.
            for (long off = 0; off < data.byteSize(); off += CHUNK_BYTES) {
                long len = Math.min(CHUNK_BYTES, data.byteSize() - off);
                AtomicFiles.writeFully(ch, data.asSlice(off, len).asByteBuffer());
            }
        }
    }

    /** For tests and tools: the header text that {@link #write} would produce, padding included. */
    static String headerString(List<TensorData> tensors, DType dtype, Map<String, String> metadata)
            throws IOException {
        List<Payload> payloads = new ArrayList<>();
        for (TensorData t : tensors) {
            payloads.add(new FloatPayload(t, dtype));
        }
        return new String(header(sortedUnique(payloads), metadata), StandardCharsets.UTF_8);
    }
}
