package org.nestlm.infer;

import org.nestlm.model.Checkpoint;
import org.nestlm.io.DType;
import org.nestlm.model.Architecture;
import org.nestlm.model.Initializer;
import org.nestlm.model.ModelConfig;
import org.nestlm.model.Presets;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

/**
 * Small random checkpoints for engine tests, with the easy-to-miss cases of docs/ARCHITECTURE.md §7:
 * G = 2 groups, nH·hd = 48 ≠ H = 40, I = 48 ≠ expand·H, chunk_size 8 (tests run longer sequences), and
 * weights at realistic scales (projections N(0, 1/√fan_in), so activations are O(1) and logits spread).
 */
public final class InferTestModels {

    private InferTestModels() {
    }

    /** Pattern M*-M-*M: vocab 64, H 40, Mamba 6 × 8 (G 2, N 8, K 4), attention 4/2 × 12, MLP 48, chunk 8. */
    public static ModelConfig hybrid() {
        return Presets.get("tiny").resized()
                .vocabSize(64).hiddenSize(40).hybridOverridePattern("M*-M-*M").intermediateSize(48)
                .numAttentionHeads(4).numKeyValueHeads(2).headDim(12)
                .mambaNumHeads(6).mambaHeadDim(8).ssmStateSize(8).nGroups(2).convKernel(4).chunkSize(8)
                .build();
    }

    /** Writes a random checkpoint of {@code config} as {@code dtype} into {@code dir}. */
    public static Path write(Path dir, ModelConfig config, DType dtype, long seed) throws IOException {
        Architecture arch = Architecture.fromConfig(config);
        Map<String, float[]> w = Initializer.initialize(arch, seed);
        Random rng = new Random(seed);
        for (Map.Entry<String, long[]> e : arch.tensorShapes().entrySet()) {
            String name = e.getKey();
            float[] v = w.get(name);
            long[] shape = e.getValue();
            if (name.endsWith("embeddings.weight")) {
                gaussian(v, 1.0, rng);
            } else if (name.endsWith("proj.weight") || name.equals("lm_head.weight")) {
                gaussian(v, 1.0 / Math.sqrt(shape[1]), rng);
            } else if (name.endsWith("norm.weight") || name.endsWith("norm_f.weight")) {
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (0.9 + 0.2 * rng.nextDouble());
                }
            } else if (name.endsWith(".D")) {
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (0.5 + rng.nextDouble());
                }
            }
        }
        Checkpoint.write(dir, config, w, arch, dtype);
        return dir;
    }

    private static void gaussian(float[] v, double std, Random rng) {
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rng.nextGaussian() * std);
        }
    }

    /** Deterministic token ids in [0, vocab). */
    /** A random BF16 {@link #hybrid()} checkpoint with the {@link CharTokenizer}: the model the serving tests chat with. */
    public static Path charModel(Path dir, long seed) throws IOException {
        Path model = write(dir, hybrid(), DType.BF16, seed);
        CharTokenizer.write(model);
        return model;
    }

    public static int[] ids(int n, int vocab, long seed) {
        Random r = new Random(seed);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = r.nextInt(vocab);
        }
        return ids;
    }

    static int argmax(float[] v, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (v[off + i] > v[off + best]) {
                best = i;
            }
        }
        return best;
    }

    public static double maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
        }
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs((double) a[i] - b[i]));
        }
        return m;
    }
}
