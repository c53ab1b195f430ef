package org.nestlm.infer;

import org.nestlm.model.Checkpoint;
import org.nestlm.io.CheckpointFormatException;
import org.nestlm.model.Architecture;
import org.nestlm.model.LayerSpec;
import org.nestlm.model.ModelConfig;
import org.nestlm.model.WeightNames;
import org.nestlm.slice.SlicePlan;

import java.util.ArrayList;
import java.util.List;

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
        Source src = new Source(ckpt, plan, q8);
        Architecture arch = plan == null ? ckpt.architecture() : plan.cut();
        ModelConfig c = arch.config();
        int h = arch.hiddenSize();
        int v = c.vocabSize();
        WeightMatrix emb = src.raw(WeightNames.embeddings(), v, h);
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
                    yield new LayerWeights.Mamba(s, norm, b.matrix("in_proj.weight", s.inProjRows(c), h),
                            c.useBias() ? b.vector("in_proj.bias") : null,
                            tapMajor(b.vector("conv1d.weight"), c.convKernel()), c.useConvBias() ? b.vector("conv1d.bias") : null,
                            b.vector("dt_bias"), a, b.vector("D"), b.vector("norm.weight"),
                            b.matrix("out_proj.weight", h, s.innerSize()), c.useBias() ? b.vector("out_proj.bias") : null);
                }
                case LayerSpec.Attention s -> {
                    int q = s.heads() * s.headDim(), kv = s.kvHeads() * s.headDim();
                    boolean bias = c.attentionBias();
                    yield new LayerWeights.Attention(s, norm, b.matrix("q_proj.weight", q, h), b.matrix("k_proj.weight", kv, h),
                            b.matrix("v_proj.weight", kv, h), b.matrix("o_proj.weight", h, q),
                            bias ? b.vector("q_proj.bias") : null, bias ? b.vector("k_proj.bias") : null,
                            bias ? b.vector("v_proj.bias") : null, bias ? b.vector("o_proj.bias") : null);
                }
                case LayerSpec.Mlp s -> new LayerWeights.Mlp(s, norm, b.matrix("up_proj.weight", s.width(), h),
                        b.matrix("down_proj.weight", h, s.width()),
                        c.mlpBias() ? b.vector("up_proj.bias") : null, c.mlpBias() ? b.vector("down_proj.bias") : null);
            });
        }
        float[] normF = src.floats(WeightNames.normF());
        WeightMatrix head = c.tieWordEmbeddings() ? emb : src.matrix(WeightNames.LM_HEAD, v, h);
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

    /** Tensors by (sub-model) canonical name: the checkpoint's own, or cut out of it by a plan. */
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

    private record Source(Checkpoint ckpt, SlicePlan plan, boolean q8) {
        WeightMatrix matrix(String name, int rows, int cols) throws CheckpointFormatException {
            WeightMatrix m = raw(name, rows, cols);
            return q8 ? m.quantized() : m;
        }

        WeightMatrix raw(String name, int rows, int cols) throws CheckpointFormatException {
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
        WeightMatrix matrix(String part, int rows, int cols) throws CheckpointFormatException {
            return src.matrix(WeightNames.mixer(layer, part), rows, cols);
        }

        float[] vector(String part) throws CheckpointFormatException {
            return src.floats(WeightNames.mixer(layer, part));
        }
    }
}
