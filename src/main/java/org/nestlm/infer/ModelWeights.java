package org.nestlm.infer;

import org.nestlm.model.Checkpoint;
import org.nestlm.io.CheckpointFormatException;
import org.nestlm.model.Architecture;
import org.nestlm.model.LayerSpec;
import org.nestlm.model.ModelConfig;
import org.nestlm.model.TensorLayout;
import org.nestlm.model.WeightNames;
import org.nestlm.slice.SlicePlan;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Every weight of a checkpoint, bound by canonical name to the engine's layout (the loader, kept apart from
 * the compute in {@link Engine}). Matrices are views of the checkpoint's mapping and stay valid while the
 * {@link Checkpoint} is open.
 *
 * @param embeddings [V, H]
 * @param layers     one per layer, in order
 * @param normF      [H]
 * @param lmHead     [V, H]; the embedding matrix itself when {@code tie_word_embeddings}
 */
record ModelWeights(Architecture architecture, WeightMatrix embeddings, List<LayerWeights> layers, float[] normF,
                    WeightMatrix lmHead) {

    static ModelWeights load(Checkpoint ckpt) throws CheckpointFormatException {
        return load(ckpt, null);
    }

    /**
     * Binds the weights of the nested sub-model {@code plan} (null: the whole checkpoint). Matrices become views
     * of the full mapped tensors (row index, column prefix or blocks); the small vectors are gathered. The
     * result is exactly the sliced checkpoint's weights, read in place.
     */
    static ModelWeights load(Checkpoint ckpt, SlicePlan plan) throws CheckpointFormatException {
        return load(ckpt, plan, false);
    }

    /**
     * As {@link #load(Checkpoint, SlicePlan)}; with {@code q8} every projection and lm_head becomes an int8 copy
     * ({@link WeightMatrix#quantized()}); an untied embedding table stays mapped (one row a token is read).
     */
    static ModelWeights load(Checkpoint ckpt, SlicePlan plan, boolean q8) throws CheckpointFormatException {
        Architecture arch = plan == null ? ckpt.architecture() : plan.cut();
        Source src = new Source(ckpt, plan, q8, TensorLayout.byName(arch));
        ModelConfig c = arch.config();
        WeightMatrix emb = src.raw(WeightNames.embeddings());
        if (q8 && c.tieWordEmbeddings()) {
            emb = emb.quantized();
        }
        List<LayerWeights> layers = new ArrayList<>();
        for (int i = 0; i < arch.layers().size(); i++) {
            Binder b = new Binder(src, i);
            float[] norm = src.floats(WeightNames.layerNorm(i));
            layers.add(switch (arch.layers().get(i)) {
                case LayerSpec.Mamba s -> {
                    float[] aLog = b.vector("A_log");
                    float[] a = new float[aLog.length];
                    for (int j = 0; j < a.length; j++) {
                        a[j] = (float) -Math.exp(aLog[j]);
                    }
                    yield new LayerWeights.Mamba(s, norm, b.matrix("in_proj.weight"), b.optional("in_proj.bias"),
                            tapMajor(b.vector("conv1d.weight"), c.convKernel()), b.optional("conv1d.bias"),
                            b.vector("dt_bias"), a, b.vector("D"), b.vector("norm.weight"),
                            b.matrix("out_proj.weight"), b.optional("out_proj.bias"));
                }
                case LayerSpec.Attention s -> new LayerWeights.Attention(s, norm, b.matrix("q_proj.weight"),
                        b.matrix("k_proj.weight"), b.matrix("v_proj.weight"), b.matrix("o_proj.weight"),
                        b.optional("q_proj.bias"), b.optional("k_proj.bias"), b.optional("v_proj.bias"), b.optional("o_proj.bias"));
                case LayerSpec.Mlp s -> new LayerWeights.Mlp(s, norm, b.matrix("up_proj.weight"), b.matrix("down_proj.weight"),
                        b.optional("up_proj.bias"), b.optional("down_proj.bias"));
            });
        }
        float[] normF = src.floats(WeightNames.normF());
        WeightMatrix head = c.tieWordEmbeddings() ? emb : src.matrix(WeightNames.LM_HEAD);
        return new ModelWeights(arch, emb, layers, normF, head);
    }

    /** Bytes of mapped weights one decoded token reads: every layer's matrices, one embedding row, lm_head. */
    long bytesPerToken() {
        long b = lmHead.byteSize() + embeddings.byteSize() / Math.max(1, embeddings.rows());
        for (LayerWeights l : layers) {
            b += l.matrixBytes();
        }
        return b;
    }

    /** The depthwise conv kernel [C, K] (channel-major, as stored) as [K, C], so each tap is a run over channels. */
    private static float[] tapMajor(float[] channelMajor, int kernel) {
        int channels = channelMajor.length / kernel;
        float[] t = new float[channelMajor.length];
        for (int c = 0; c < channels; c++) {
            for (int k = 0; k < kernel; k++) {
                t[k * channels + c] = channelMajor[c * kernel + k];
            }
        }
        return t;
    }

    /**
     * Tensors by (sub-model) canonical name: the checkpoint's own, or cut out of it by a plan; matrix sizes and
     * which tensors exist are the tensor table's ({@code table}, docs/ARCHITECTURE.md §3.2).
     */
    private record Source(Checkpoint ckpt, SlicePlan plan, boolean q8, Map<String, TensorLayout.Tensor> table) {
        WeightMatrix matrix(String name) throws CheckpointFormatException {
            WeightMatrix m = raw(name);
            return q8 ? m.quantized() : m;
        }

        WeightMatrix raw(String name) throws CheckpointFormatException {
            TensorLayout.Tensor t = table.get(name);
            int rows = t.rows().size(), cols = t.cols().size();
            if (plan == null) {
                return WeightMatrix.of(ckpt.tensor(name), rows, cols);
            }
            SlicePlan.Cut k = plan.cut(name);
            WeightMatrix m = WeightMatrix.view(ckpt.tensor(k.source()), k.srcRows(), k.srcCols(), k.rows(), k.cols());
            if (m.rows() != rows || m.cols() != cols) {
                throw new IllegalStateException("view of '" + name + "' is " + m.rows() + " x " + m.cols() + ", expected "
                        + rows + " x " + cols);
            }
            return m;
        }

        float[] floats(String name) throws CheckpointFormatException {
            if (plan == null) {
                return ckpt.floats(name);
            }
            SlicePlan.Cut k = plan.cut(name);
            return k.gather(ckpt.tensor(k.source()));
        }
    }

    /** Resolves the mixer tensors of one layer. */
    private record Binder(Source src, int layer) {
        WeightMatrix matrix(String part) throws CheckpointFormatException {
            return src.matrix(WeightNames.mixer(layer, part));
        }

        float[] vector(String part) throws CheckpointFormatException {
            return src.floats(WeightNames.mixer(layer, part));
        }

        /** A bias the config may leave out: null when the table has no such tensor. */
        float[] optional(String part) throws CheckpointFormatException {
            String name = WeightNames.mixer(layer, part);
            return src.table().containsKey(name) ? src.floats(name) : null;
        }
    }
}
