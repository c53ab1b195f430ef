package org.nestlm.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Named tensors across one checkpoint, resolved like Hugging Face does:
 * <ol>
 *   <li>a path to a {@code .safetensors} file: that file alone;</li>
 *   <li>a path to a {@code *.index.json} file: the shards it lists, relative to its directory;</li>
 *   <li>a directory with {@code model.safetensors}: that file (preferred over an index, as transformers does);</li>
 *   <li>a directory with {@code model.safetensors.index.json}: the shards its {@code weight_map} lists;</li>
 *   <li>otherwise every {@code *.safetensors} file in the directory, in name order.</li>
 * </ol>
 * Tensor names must be unique across all files. All files stay mapped until {@link #close()}.
 */
public final class TensorStore implements AutoCloseable {

    static final String SINGLE_FILE = "model.safetensors";
    static final String INDEX_FILE = "model.safetensors.index.json";

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final Path root;
    private final List<SafetensorsFile> files;
    private final Map<String, TensorEntry> tensors;

    private TensorStore(Path root, List<SafetensorsFile> files, Map<String, TensorEntry> tensors) {
        this.root = root;
        this.files = files;
        this.tensors = tensors;
    }

    /** Opens a checkpoint directory, an index file or a single safetensors file (see the class comment). */
    public static TensorStore open(Path dirOrFile) throws IOException {
        if (!Files.exists(dirOrFile)) {
            throw new NoSuchFileException(dirOrFile.toString(), null, "checkpoint path does not exist");
        }
        if (Files.isDirectory(dirOrFile)) {
            Path single = dirOrFile.resolve(SINGLE_FILE);
            Path index = dirOrFile.resolve(INDEX_FILE);
            if (Files.isRegularFile(single)) {
                return fromFiles(dirOrFile, List.of(single), null);
            }
            if (Files.exists(single)) {
                throw new CheckpointFormatException(single, SafetensorsFile.notRegular(single));
            }
            if (Files.isRegularFile(index)) {
                return fromIndex(index);
            }
            if (Files.exists(index)) {
                throw new CheckpointFormatException(index, SafetensorsFile.notRegular(index));
            }
            List<Path> all = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dirOrFile, "*.safetensors")) {
                for (Path p : ds) {
                    if (Files.isRegularFile(p)) {
                        all.add(p);
                    }
                }
            }
            if (all.isEmpty()) {
                throw new CheckpointFormatException(dirOrFile, "no " + SINGLE_FILE + ", " + INDEX_FILE
                        + " or other *.safetensors file in this directory");
            }
            Collections.sort(all);
            return fromFiles(dirOrFile, all, null);
        }
        if (dirOrFile.getFileName().toString().endsWith(".index.json")) {
            return fromIndex(dirOrFile);
        }
        return fromFiles(dirOrFile, List.of(dirOrFile), null);
    }

    /**
     * Reads an index ({@code {"metadata": {...}, "weight_map": {tensor: shard}}}) and opens its shards. Every
     * tensor the index names must be in the shard it names; shards must lie in the index's directory.
     */
    private static TensorStore fromIndex(Path index) throws IOException {
        Path dir = index.toAbsolutePath().getParent();
        JsonNode root;
        try {
            root = MAPPER.readTree(index.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new CheckpointFormatException(index, "index is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointFormatException(index, "index is not a JSON object");
        }
        JsonNode weightMap = root.get("weight_map");
        if (weightMap == null || !weightMap.isObject()) {
            throw new CheckpointFormatException(index, "index has no \"weight_map\" object");
        }
        Map<String, Path> expected = new LinkedHashMap<>();  // tensor -> shard
        List<Path> shards = new ArrayList<>();                 // distinct, in order of first mention
        for (Map.Entry<String, JsonNode> e : weightMap.properties()) {
            if (!e.getValue().isTextual()) {
                throw new CheckpointFormatException(index, "weight_map entry for tensor '" + e.getKey()
                        + "' is not a file name: " + e.getValue());
            }
            String shardName = e.getValue().textValue();
            Path shard = dir.resolve(shardName).normalize();
            if (!dir.normalize().equals(shard.getParent())) {
                throw new CheckpointFormatException(index, "weight_map entry for tensor '" + e.getKey()
                        + "' names '" + shardName + "', which is not a file in the index's directory");
            }
            if (!Files.isRegularFile(shard)) {
                throw new CheckpointFormatException(index, "shard '" + shardName + "' (for tensor '" + e.getKey()
                        + "') does not exist");
            }
            if (!shards.contains(shard)) {
                shards.add(shard);
            }
            expected.put(e.getKey(), shard);
        }
        if (shards.isEmpty()) {
            throw new CheckpointFormatException(index, "weight_map is empty");
        }
        return fromFiles(dir, shards, new IndexCheck(index, expected));
    }

    /** What an index promised: used to check the shards against it after they are opened. */
    private record IndexCheck(Path index, Map<String, Path> tensorToShard) {
    }

    private static TensorStore fromFiles(Path root, List<Path> paths, IndexCheck check) throws IOException {
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            Map<String, TensorEntry> tensors = new LinkedHashMap<>();
            for (Path p : paths) {
                SafetensorsFile f = SafetensorsFile.open(p);
                opened.add(f);
                for (TensorEntry e : f.tensors().values()) {
                    TensorEntry previous = tensors.putIfAbsent(e.name(), e);
                    if (previous != null) {
                        throw new CheckpointFormatException(root, "tensor '" + e.name() + "' is in both "
                                + previous.file().getFileName() + " and " + p.getFileName());
                    }
                }
            }
            if (check != null) {
                for (Map.Entry<String, Path> e : check.tensorToShard().entrySet()) {
                    TensorEntry found = tensors.get(e.getKey());
                    if (found == null || !found.file().equals(e.getValue())) {
                        throw new CheckpointFormatException(check.index(), "tensor '" + e.getKey()
                                + "' is listed in shard '" + e.getValue().getFileName() + "' but that shard "
                                + (found == null ? "does not contain it"
                                        : "does not contain it (it is in '" + found.file().getFileName() + "')"));
                    }
                }
            }
            return new TensorStore(root, List.copyOf(opened), Collections.unmodifiableMap(tensors));
        } catch (Throwable t) {
            for (SafetensorsFile f : opened) {
                f.close();
            }
            throw t;
        }
    }

    /** Tensor names, in file order then header order (unmodifiable). */
    public Set<String> names() {
        return tensors.keySet();
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** The tensor called {@code name}; throws {@code CheckpointFormatException("<dir>: missing tensor 'x'")}. */
    public TensorEntry get(String name) throws CheckpointFormatException {
        TensorEntry e = tensors.get(name);
        if (e == null) {
            throw new CheckpointFormatException(root, "missing tensor '" + name + "'");
        }
        return e;
    }

    public Optional<TensorEntry> find(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** All tensors by name, in {@link #names()} order (unmodifiable). */
    public Map<String, TensorEntry> tensors() {
        return tensors;
    }

    /** Shapes by name, in {@link #names()} order; each array is a copy. */
    public Map<String, long[]> shapes() {
        Map<String, long[]> out = new LinkedHashMap<>();
        tensors.forEach((k, v) -> out.put(k, v.shape()));
        return Collections.unmodifiableMap(out);
    }

    /** Sum of the tensors' data bytes: the weight memory as stored, without headers. */
    public long totalBytes() {
        long sum = 0;
        for (TensorEntry e : tensors.values()) {
            sum += e.byteSize();
        }
        return sum;
    }

    /** The directory (or single file) this store was opened from. */
    public Path root() {
        return root;
    }

    /** The files backing this store, in open order. */
    public List<Path> files() {
        return files.stream().map(SafetensorsFile::path).toList();
    }

    /** Unmaps every file. Idempotent. */
    @Override
    public void close() {
        for (SafetensorsFile f : files) {
            f.close();
        }
    }

    @Override
    public String toString() {
        return "TensorStore[" + root + ", " + tensors.size() + " tensors in " + files.size() + " file(s)]";
    }

    /** Every tensor of a file or checkpoint converted to fp32, by name (optimizer and training state). */
    public static Map<String, float[]> readFloats(Path dirOrFile) throws IOException {
        Map<String, float[]> all = new LinkedHashMap<>();
        try (TensorStore s = open(dirOrFile)) {
            for (String n : s.names()) {
                all.put(n, s.get(n).toFloatArray());
            }
        }
        return all;
    }
}
