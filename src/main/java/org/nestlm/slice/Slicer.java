package org.nestlm.slice;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nestlm.sizes.Subnet;
import org.nestlm.io.AtomicFiles;
import org.nestlm.model.Checkpoint;
import org.nestlm.io.CheckpointFormatException;
import org.nestlm.io.DType;
import org.nestlm.io.SafetensorsWriter;
import org.nestlm.io.TensorData;
import org.nestlm.model.Architecture;
import org.nestlm.model.ConfigJson;
import org.nestlm.model.ModelConfig;
import org.nestlm.train.RunDirectory;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Writes the standalone Nemotron-H checkpoint of a nested sub-model (docs/METHOD.md §9): every tensor of
 * the {@link SlicePlan}, read from the mapped full weights one shard's worth at a time (so a 12B model never
 * needs all its floats in memory), {@code config.json} from {@link SlicedConfig}, and the tokenizer.
 *
 * <p>The whole directory is built under the sibling name {@code .NAME.slicing}, locked as a {@link RunDirectory}
 * while it is written, and renamed into place at the end, so {@code out} either does not exist or holds a complete
 * checkpoint, with the user's umask permissions.
 */
public final class Slicer {

    /** Floats held in memory while writing one shard (1 GiB of fp32); the shard on disk is this or half. */
    static final long SHARD_FLOATS = 256L << 20;

    /** Suffix of the directory a slice is written in: {@code .NAME.slicing} next to {@code NAME}. */
    static final String SLICING = ".slicing";

    private Slicer() {
    }

    /**
     * Slices {@code sub} out of {@code source} into the new directory {@code out}.
     *
     * @param budget the budget text recorded in the config ({@code 50%}, {@code custom})
     * @throws FileAlreadyExistsException when {@code out} exists and is not an empty directory
     */
    public static SlicePlan write(Checkpoint source, Subnet sub, String budget, Path out, DType dtype) throws IOException {
        return write(source, sub, budget, out, dtype, SHARD_FLOATS);
    }

    static SlicePlan write(Checkpoint source, Subnet sub, String budget, Path out, DType dtype, long shardFloats)
            throws IOException {
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
            throw new IllegalArgumentException("--dtype must be f32, bf16 or f16, got " + dtype);
        }
        SlicePlan plan = SlicePlan.of(source.architecture(), sub);
        Path target = out.toAbsolutePath().normalize();
        Path parent = target.getParent();
        Files.createDirectories(parent);
        // the directory is built under a fixed sibling name that this process owns while it writes: a second slice
        // into the same --out fails at once, and the next slice after a kill starts the leftover afresh
        RunDirectory work;
        try {
            work = RunDirectory.open(parent.resolve("." + target.getFileName() + SLICING));
        } catch (RunDirectory.InUseException e) {
            throw new RunDirectory.InUseException(target + " is being written by another slice: " + e.getMessage());
        }
        try (work) {
            boolean published = false;
            try {
                removeOldTemporaries(parent, target.getFileName().toString());
                if (!isAbsentOrEmpty(target)) {
                    throw new FileAlreadyExistsException(target + ": already exists; slice into a new directory");
                }
                work.clear();
                Path tmp = work.path();
                writeWeights(source, plan, tmp, dtype, shardFloats);
                ModelConfig config = SlicedConfig.of(plan.cut(), budget, source.dir().toString());
                ConfigJson.write(tmp, config);
                Checkpoint.copyTokenizer(source.dir(), tmp);
                work.publish(target);
                published = true;
            } finally {
                if (!published) {
                    try {
                        work.discard();
                    } catch (IOException ignored) {
                        // the failure matters more; the next slice into out removes the leftover
                    }
                }
            }
        }
        return plan;
    }

    /**
     * Cuts {@code sub}'s tensors out of the full model's (canonical names, row-major floats) in memory: the weights of
     * the standalone sub-model, layers renumbered (docs/METHOD.md §9), by the index sets of {@link SlicePlan}.
     */
    public static Map<String, float[]> slice(Architecture full, Subnet sub, Function<String, float[]> weights) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (SlicePlan.Cut cut : SlicePlan.of(full, sub).cuts().values()) {
            out.put(cut.target(), cut.gather(weights.apply(cut.source())));
        }
        return out;
    }

    private static boolean isAbsentOrEmpty(Path dir) {
        if (!Files.exists(dir)) {
            return true;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            return false;   // a file, or unreadable
        }
    }

    /** Temporary directories {@code .NAME.slicing-<random>} of killed slices by earlier versions. */
    private static void removeOldTemporaries(Path parent, String name) throws IOException {
        String prefix = "." + name + SLICING + "-";
        try (Stream<Path> s = Files.list(parent)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith(prefix) && Files.isDirectory(p)).toList()) {
                RunDirectory.deleteTree(p);
            }
        }
    }

    /** model.safetensors, or shards of at most {@code shardFloats} elements plus the HF index. */
    private static void writeWeights(Checkpoint source, SlicePlan plan, Path dir, DType dtype, long shardFloats)
            throws IOException {
        // Shard in name order, as the HF hub (and SafetensorsWriter) do.
        List<SlicePlan.Cut> cuts = new ArrayList<>(plan.cuts().values());
        cuts.sort(Comparator.comparing(SlicePlan.Cut::target));
        List<List<SlicePlan.Cut>> shards = new ArrayList<>();
        List<SlicePlan.Cut> current = new ArrayList<>();
        long floats = 0, total = 0;
        for (SlicePlan.Cut k : cuts) {
            if (!current.isEmpty() && floats + k.numel() > shardFloats) {
                shards.add(current);
                current = new ArrayList<>();
                floats = 0;
            }
            current.add(k);
            floats += k.numel();
            total += k.numel() * dtype.byteSize();
        }
        shards.add(current);
        if (shards.size() == 1) {
            SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors(source, shards.getFirst()), dtype, Map.of());
            return;
        }
        int n = shards.size();
        TreeMap<String, String> weightMap = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            String name = String.format("model-%05d-of-%05d.safetensors", i + 1, n);
            SafetensorsWriter.write(dir.resolve(name), tensors(source, shards.get(i)), dtype, Map.of());
            for (SlicePlan.Cut k : shards.get(i)) {
                weightMap.put(k.target(), name);
            }
        }
        ObjectNode root = ConfigJson.MAPPER.createObjectNode();
        root.putObject("metadata").put("total_size", total);
        ObjectNode wm = root.putObject("weight_map");
        weightMap.forEach(wm::put);
        AtomicFiles.writeString(dir.resolve("model.safetensors.index.json"), ConfigJson.MAPPER.writeValueAsString(root) + "\n");
    }

    private static List<TensorData> tensors(Checkpoint source, List<SlicePlan.Cut> cuts) throws CheckpointFormatException {
        List<TensorData> data = new ArrayList<>();
        for (SlicePlan.Cut k : cuts) {
            data.add(new TensorData(k.target(), k.shape(), k.gather(source.tensor(k.source()))));
        }
        return data;
    }
}
