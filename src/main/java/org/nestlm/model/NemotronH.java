package org.nestlm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.nestlm.model.MlpMixer.linear;

/**
 * The Nemotron-H hybrid language model on DJL, fp32 (docs/ARCHITECTURE.md §4.1):
 * <pre>
 *   h = E[ids]
 *   for each layer i:  h = h + mixer_i(RMSNorm(h; layers.i.norm))
 *   logits = RMSNorm(h; norm_f) · lm_headᵀ
 * </pre>
 * Three ways to run it: {@link #forward(NDArray)} for a whole sequence from scratch (training, scoring),
 * {@link #forward(NDArray, DecodeState)} for a prefill that continues a decode state (in pieces if wanted),
 * and {@link #step} for the recurrent one-token decode. Weights live in this model's own manager; the
 * results of a call belong to the manager of the ids passed in.
 */
public final class NemotronH implements AutoCloseable {

    private final Architecture architecture;
    private final NDManager manager;
    private final Param embeddings;        // [V, H]
    private final List<Param> layerNorms;  // per layer [H]
    private final List<Mixer> mixers;      // per layer
    private final Param normF;             // [H]
    private final Param lmHead;            // [V, H]; the embedding itself when tie_word_embeddings

    private NemotronH(Architecture architecture, NDManager manager, Param embeddings, List<Param> layerNorms,
                      List<Mixer> mixers, Param normF, Param lmHead) {
        this.architecture = architecture;
        this.manager = manager;
        this.embeddings = embeddings;
        this.layerNorms = List.copyOf(layerNorms);
        this.mixers = List.copyOf(mixers);
        this.normF = normF;
        this.lmHead = lmHead;
    }

    /**
     * Builds the model from tensors given by canonical name (see {@link Architecture#tensorShapes()}).
     * The arrays are attached to a new sub-manager of {@code parent}, owned by the model.
     */
    public static NemotronH fromTensors(Architecture arch, NDManager parent, Function<String, float[]> tensor) {
        NDManager m = parent.newSubManager();
        Map<String, long[]> shapes = arch.tensorShapes();
        Function<String, Param> p = name -> {
            long[] shape = shapes.get(name);
            if (shape == null) {
                return null;
            }
            float[] values = tensor.apply(name);
            NDArray a = Tensors.of(m, values, new Shape(shape));
            a.setName(name);
            return new Param(name, a, decays(name));
        };
        ModelConfig c = arch.config();
        Param emb = p.apply(WeightNames.embeddings());
        List<Param> norms = new ArrayList<>();
        List<Mixer> mixers = new ArrayList<>();
        for (int i = 0; i < arch.layers().size(); i++) {
            norms.add(p.apply(WeightNames.layerNorm(i)));
            final int layer = i;
            Function<String, Param> mp = part -> p.apply(WeightNames.mixer(layer, part));
            mixers.add(switch (arch.layers().get(i)) {
                case LayerSpec.Mamba s -> new Mamba2Mixer(c, s, mp.apply("in_proj.weight"), mp.apply("in_proj.bias"),
                        mp.apply("conv1d.weight"), mp.apply("conv1d.bias"), mp.apply("dt_bias"), mp.apply("A_log"),
                        mp.apply("D"), mp.apply("norm.weight"), mp.apply("out_proj.weight"), mp.apply("out_proj.bias"));
                case LayerSpec.Attention s -> new AttentionMixer(s, mp.apply("q_proj.weight"), mp.apply("k_proj.weight"),
                        mp.apply("v_proj.weight"), mp.apply("o_proj.weight"), mp.apply("q_proj.bias"),
                        mp.apply("k_proj.bias"), mp.apply("v_proj.bias"), mp.apply("o_proj.bias"));
                case LayerSpec.Mlp s -> new MlpMixer(s, mp.apply("up_proj.weight"), mp.apply("down_proj.weight"),
                        mp.apply("up_proj.bias"), mp.apply("down_proj.bias"));
            });
        }
        Param normF = p.apply(WeightNames.normF());
        Param head = c.tieWordEmbeddings() ? emb : p.apply(WeightNames.LM_HEAD);
        return new NemotronH(arch, m, emb, norms, mixers, normF, head);
    }

    /** A new model with {@link Initializer}'s weights. */
    public static NemotronH initialize(Architecture arch, long seed, NDManager parent) {
        Map<String, float[]> init = Initializer.initialize(arch, seed);
        return fromTensors(arch, parent, init::get);
    }

    /** Loads a checkpoint's weights (BF16/F16 widened to fp32 in Java) into a new model. */
    public static NemotronH load(org.nestlm.model.Checkpoint checkpoint, NDManager parent) {
        return fromTensors(checkpoint.architecture(), parent, checkpoint::floats);
    }

    /** Saves config.json and the weights as {@code dtype} (F32 or BF16) under canonical hub names, atomically per file. */
    public void save(java.nio.file.Path dir, org.nestlm.io.DType dtype) throws java.io.IOException {
        org.nestlm.model.Checkpoint.write(dir, config(), toFloatArrays(), architecture, dtype);
    }

    /** No weight decay on norms, biases, embeddings and the per-head SSM scalars. */
    private static boolean decays(String name) {
        return !(name.endsWith("norm.weight") || name.endsWith("norm_f.weight") || name.endsWith(".bias")
                || name.endsWith("dt_bias") || name.endsWith("A_log") || name.endsWith(".D")
                || name.equals(WeightNames.embeddings()));
    }

    public Architecture architecture() {
        return architecture;
    }

    public ModelConfig config() {
        return architecture.config();
    }

    /** Every weight by canonical name, in checkpoint order (a tied lm_head appears once, as the embedding). */
    public Map<String, Param> parameters() {
        Map<String, Param> all = new LinkedHashMap<>();
        all.put(embeddings.name(), embeddings);
        for (int i = 0; i < mixers.size(); i++) {
            all.put(layerNorms.get(i).name(), layerNorms.get(i));
            for (Param p : mixers.get(i).params()) {
                all.put(p.name(), p);
            }
        }
        all.put(normF.name(), normF);
        all.put(lmHead.name(), lmHead);
        return all;
    }

    public List<Mixer> mixers() {
        return mixers;
    }

    /** Logits for a whole batch of sequences from an empty state. ids [b, L] (int or long) → [b, L, V]. */
    public NDArray forward(NDArray ids) {
        return forward(ids, null, null, ActivationProbe.NONE);
    }

    /**
     * Prefill: logits for ids [b, L] continuing {@code state} (which is advanced past them), or from an
     * empty state when {@code state} is null. Mamba layers use the chunked scan.
     */
    public NDArray forward(NDArray ids, DecodeState state) {
        return forward(ids, state, null, ActivationProbe.NONE);
    }

    /** The masked forward of a nested sub-model (see {@link Masks}); no decode state. */
    public NDArray forward(NDArray ids, Masks masks) {
        return forward(ids, null, masks, ActivationProbe.NONE);
    }

    /**
     * The general forward pass: optional decode state, optional masks (null: the full model) and a probe that
     * sees intermediate activations. With masks, the embedding output, every mixer output and every norm use
     * the hidden mask (norm statistics over active channels), and skipped layers are not computed.
     */
    public NDArray forward(NDArray ids, DecodeState state, Masks masks, ActivationProbe probe) {
        NDArray hiddenMask = masks == null ? null : masks.hidden();
        NDArray h = LayerMask.apply(embed(ids), hiddenMask);                       // [b, L, H]
        double eps = config().layerNormEpsilon();
        for (int i = 0; i < mixers.size(); i++) {
            if (masks != null && masks.skipped(i)) {
                continue;
            }
            final int layer = i;
            LayerMask lm = masks == null ? LayerMask.NONE : masks.layer(i);
            NDArray u = Norms.rmsNorm(h, layerNorms.get(i).value(), eps, hiddenMask);
            probe.observe(layer, ActivationProbe.Site.PRE_MIXER_NORM, u);
            NDArray out = mixers.get(i).forward(u, state == null ? null : state.layer(i), lm,
                    probe == ActivationProbe.NONE ? null : (site, a) -> probe.observe(layer, site, a));
            h = h.add(lm.keep() == null ? out : out.mul(lm.keep()));
        }
        if (state != null) {
            state.advance(ids.getShape().get(1));
        }
        NDArray normed = Norms.rmsNorm(h, normF.value(), eps, hiddenMask);
        return linear(normed, lmHead, null);                                       // [b, L, V]
    }

    /** Recurrent decode of one token per sequence: ids [b] → logits [b, V]; the state advances by one. */
    public NDArray step(NDArray ids, DecodeState state) {
        NDArray h = embed(ids);                                                    // [b, H]
        double eps = config().layerNormEpsilon();
        for (int i = 0; i < mixers.size(); i++) {
            NDArray u = Norms.rmsNorm(h, layerNorms.get(i).value(), eps);
            h = h.add(mixers.get(i).step(u, state.layer(i)));
        }
        state.advance(1);
        return logits(h);
    }

    /** An empty decode state for {@code batch} sequences, with its own native memory. */
    public DecodeState newDecodeState(int batch) {
        NDManager m = manager.getParentManager().newSubManager();
        List<LayerCache> caches = new ArrayList<>();
        for (Mixer mixer : mixers) {
            caches.add(mixer.newCache(m, batch));
        }
        return new DecodeState(m, caches);
    }

    private NDArray embed(NDArray ids) {
        return Embedding.embedding(ids.toType(ai.djl.ndarray.types.DataType.INT64, false), embeddings.value(),
                SparseFormat.DENSE).singletonOrThrow();
    }

    private NDArray logits(NDArray h) {
        return linear(Norms.rmsNorm(h, normF.value(), config().layerNormEpsilon()), lmHead, null);
    }

    public List<Param> layerNorms() {
        return layerNorms;
    }

    /** Copies every weight out as float arrays by canonical name (for saving or for the pure-Java engine). */
    public Map<String, float[]> toFloatArrays() {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Param p : parameters().values()) {
            out.put(p.name(), p.value().toFloatArray());
        }
        return out;
    }

    @Override
    public void close() {
        manager.close();
    }
}
