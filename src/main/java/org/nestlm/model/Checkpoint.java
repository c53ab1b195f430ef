package org.nestlm.model;

import org.nestlm.io.AtomicFiles;
import org.nestlm.io.CheckpointFormatException;
import org.nestlm.io.DType;
import org.nestlm.io.SafetensorsWriter;
import org.nestlm.io.TensorData;
import org.nestlm.io.TensorEntry;
import org.nestlm.io.TensorStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Nemotron-H checkpoint directory: {@code config.json}, weights in safetensors (one file or shards with
 * an index) and optionally {@code tokenizer.json}. Opening maps the weights, resolves stored names to
 * canonical ones ({@code model.} → {@code backbone.}) and derives the {@link Architecture} from tensor
 * shapes, so heterogeneous (sliced) checkpoints open as they are.
 */
public final class Checkpoint implements AutoCloseable {

    public static final String TOKENIZER_FILE = "tokenizer.json";
    /** Shards of at most 4 GiB, as the HF hub writes them for large models. */
    public static final long DEFAULT_SHARD_BYTES = 4L << 30;

    private final Path dir;
    private final ModelConfig config;
    private final Architecture architecture;
    private final TensorStore store;
    private final Map<String, String> storedNames;   // canonical name → name in the file

    private Checkpoint(Path dir, ModelConfig config, Architecture architecture, TensorStore store,
                       Map<String, String> storedNames) {
        this.dir = dir;
        this.config = config;
        this.architecture = architecture;
        this.store = store;
        this.storedNames = storedNames;
    }

    /**
     * Opens and validates a checkpoint directory: the config, the safetensors framing, every tensor the config's
     * model needs with its shape and none it does not use, and every weight F32 / BF16 / F16 and finite (one scan
     * of the mapped bytes). Errors name the file and the offending tensor or field.
     */
    public static Checkpoint open(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new java.nio.file.NoSuchFileException(dir + ": not a checkpoint directory");
        }
        ModelConfig config = ConfigJson.read(dir);
        TensorStore store = TensorStore.open(dir);
        try {
            Map<String, String> stored = new LinkedHashMap<>();
            Map<String, long[]> shapes = new LinkedHashMap<>();
            for (String name : store.names()) {
                String canonical = WeightNames.canonical(name);
                String previous = stored.put(canonical, name);
                if (previous != null) {
                    throw new CheckpointFormatException(dir + ": tensors '" + previous + "' and '" + name
                            + "' are the same weight under two prefixes");
                }
                shapes.put(canonical, store.get(name).shape());
            }
            Architecture arch;
            try {
                arch = Architecture.fromShapes(config, shapes, dir.toString());
            } catch (IllegalArgumentException e) {
                throw new CheckpointFormatException(e.getMessage(), e);
            } catch (ArithmeticException e) {
                throw new CheckpointFormatException(dir + ": a tensor dimension does not fit in a 32-bit integer", e);
            }
            checkUnused(dir, config, arch, store, stored);
            for (String name : store.names()) {
                checkValues(store.get(name));
            }
            return new Checkpoint(dir, config, arch, store, stored);
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /**
     * Every stored tensor must be one the config's model reads: weights left over (a config of 4 layers over
     * 6-layer weights, a stray tensor) mean the config and the weights do not belong together.
     */
    private static void checkUnused(Path dir, ModelConfig config, Architecture arch, TensorStore store,
                                    Map<String, String> stored)
            throws CheckpointFormatException {
        Set<String> expected = arch.tensorShapes().keySet();
        List<String> unused = new ArrayList<>();
        for (Map.Entry<String, String> e : stored.entrySet()) {
            if (!expected.contains(e.getKey())) {
                unused.add(e.getValue());
            }
        }
        if (!unused.isEmpty()) {
            throw new CheckpointFormatException(store.get(unused.getFirst()).file(), unused.size() + " tensor(s) that the"
                    + " model of " + dir.resolve(ConfigJson.FILE_NAME) + " (" + config.numHiddenLayers() + " layers, pattern "
                    + config.hybridOverridePattern() + ") does not use, e.g. '" + unused.getFirst()
                    + "'; do the weights belong to another config?");
        }
    }

    /**
     * A weight must be stored as F32, BF16 or F16 (what every reader of nestlm takes in place) and hold only
     * finite values: a NaN or infinity makes every output NaN, or argmax token 0, without a word.
     */
    private static void checkValues(TensorEntry e) throws CheckpointFormatException {
        if (e.dtype() != DType.F32 && e.dtype() != DType.BF16 && e.dtype() != DType.F16) {
            throw new CheckpointFormatException(e.file(), "tensor '" + e.name() + "' is stored as " + e.dtype()
                    + "; model weights must be F32, BF16 or F16");
        }
        long bad = e.firstNonFinite();
        if (bad >= 0) {
            throw new CheckpointFormatException(e.file(), "tensor '" + e.name() + "' holds " + e.getFloat(bad)
                    + " at element " + bad + " (weights must be finite)");
        }
    }

    public Path dir() {
        return dir;
    }

    public ModelConfig config() {
        return config;
    }

    public Architecture architecture() {
        return architecture;
    }

    public TensorStore store() {
        return store;
    }

    /** The mapped tensor with this canonical name. */
    public TensorEntry tensor(String canonicalName) throws CheckpointFormatException {
        String stored = storedNames.get(canonicalName);
        if (stored == null) {
            throw new CheckpointFormatException(dir + ": missing tensor '" + canonicalName + "'");
        }
        return store.get(stored);
    }

    /** The tensor converted to fp32 (BF16 and F16 are widened in Java; DJL never sees BF16). */
    public float[] floats(String canonicalName) {
        try {
            return tensor(canonicalName).toFloatArray();
        } catch (CheckpointFormatException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** Bytes of weight data as stored (the resident size of a full mapping). */
    public long weightBytes() {
        return store.totalBytes();
    }

    /** The tokenizer stored next to the weights, if any. */
    public java.util.Optional<Path> tokenizer() {
        Path t = dir.resolve(TOKENIZER_FILE);
        return Files.isRegularFile(t) ? java.util.Optional.of(t) : java.util.Optional.empty();
    }

    /**
     * Writes a checkpoint: weights (canonical names, in the given order) as {@code dtype}, then
     * {@code config.json}, each file atomically; the directory is created if needed.
     */
    public static void write(Path dir, ModelConfig config, Map<String, float[]> tensors, Architecture arch, DType dtype)
            throws IOException {
        Files.createDirectories(dir);
        Map<String, long[]> shapes = arch.tensorShapes();
        List<TensorData> data = new ArrayList<>();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            float[] v = tensors.get(e.getKey());
            if (v == null) {
                throw new IllegalArgumentException("no values for tensor '" + e.getKey() + "'");
            }
            data.add(new TensorData(e.getKey(), e.getValue(), v));
        }
        SafetensorsWriter.writeCheckpoint(dir, data, dtype, DEFAULT_SHARD_BYTES);
        ConfigJson.write(dir, config);
    }

    /** Copies a tokenizer file into {@code targetDir} as {@code tokenizer.json}, atomically. */
    public static void copyTokenizerFile(Path file, Path targetDir) throws IOException {
        Path target = targetDir.resolve(TOKENIZER_FILE);
        if (file.toAbsolutePath().normalize().equals(target.toAbsolutePath().normalize())) {
            return;
        }
        AtomicFiles.copy(file, target);   // with the user's umask, as every output file
    }

    /** Copies {@code tokenizer.json} from {@code source} into {@code target} when there is one. */
    public static void copyTokenizer(Path source, Path target) throws IOException {
        Path t = source.resolve(TOKENIZER_FILE);
        if (Files.isRegularFile(t)) {
            copyTokenizerFile(t, target);
        }
    }

    @Override
    public void close() {
        store.close();
    }
}
