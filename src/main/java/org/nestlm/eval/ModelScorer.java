package org.nestlm.eval;

import org.nestlm.elastic.SubnetMasks;
import ai.djl.ndarray.NDArray;
import org.nestlm.model.Tensors;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.nestlm.sizes.TrainedBudget;
import org.nestlm.model.Checkpoint;
import org.nestlm.model.Masks;
import org.nestlm.model.NemotronH;
import org.nestlm.sizes.ElasticBudgets;
import org.nestlm.sizes.ElasticModel;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A model opened for scoring: the DJL model in fp32, and for a budget of an elastic checkpoint the hard masks of
 * that nested sub-model over the full weights (the masked forward equals the sliced model, docs/METHOD.md §4.4).
 * Returns the log-probability of given next tokens, nothing else, so that text and minimal-pair evaluation share it.
 */
public final class ModelScorer implements AutoCloseable {

    private final Checkpoint checkpoint;
    private final NDManager manager;
    private final NemotronH model;
    private final Masks masks;
    private final long parameters;
    private final String label;
    private final Optional<Path> tokenizer;

    private ModelScorer(Checkpoint checkpoint, NDManager manager, NemotronH model, Masks masks, long parameters, String label) {
        this.checkpoint = checkpoint;
        this.manager = manager;
        this.model = model;
        this.masks = masks;
        this.parameters = parameters;
        this.label = label;
        this.tokenizer = checkpoint.tokenizer();
    }

    /**
     * Opens {@code dir}; with a {@code budget} ({@code 0.5}, {@code 50%}, {@code 3M}) the checkpoint must be elastic.
     *
     * @throws IOException naming the directory or elastic.json when it cannot be read
     */
    public static ModelScorer open(Path dir, String budget) throws IOException {
        Checkpoint ckpt = Checkpoint.open(dir);
        NDManager m = NDManager.newBaseManager();
        try {
            NemotronH net = NemotronH.load(ckpt, m);
            Masks masks = null;
            long params = ckpt.architecture().parameterCount();
            String label = dir.getFileName() == null ? dir.toString() : dir.getFileName().toString();
            if (budget != null) {
                if (!ElasticBudgets.isElastic(dir)) {
                    throw new IOException(dir + ": --budget needs an elastic checkpoint (no elastic.json here)");
                }
                TrainedBudget b = ElasticModel.of(ckpt).resolve(budget);
                params = b.parameters();
                label = label + "@" + budget;
                if (params != ckpt.architecture().parameterCount()) {
                    masks = SubnetMasks.hard(m, ckpt.architecture(), b.subnet());
                }
            }
            return new ModelScorer(ckpt, m, net, masks, params, label);
        } catch (IOException | RuntimeException e) {
            m.close();
            ckpt.close();
            throw e;
        }
    }

    /** Parameters of the model scored (of the nested sub-model for a budget). */
    public long parameters() {
        return parameters;
    }

    public String label() {
        return label;
    }

    public int vocabSize() {
        return checkpoint.config().vocabSize();
    }

    /** The tokenizer.json stored beside the weights, if any. */
    public Optional<Path> tokenizer() {
        return tokenizer;
    }

    /**
     * log p(targets[b][t] | inputs[b][0..t]) for a batch of equal-length rows, row-major {@code [batch · length]}.
     * Runs without a gradient collector, so no graph is kept.
     */
    public float[] logProbs(long[] inputs, long[] targets, int batch, int length) {
        try (NDManager scope = manager.newSubManager()) {
            Shape s = new Shape(batch, length);
            NDArray x = Tensors.of(scope, inputs, s);
            NDArray y = Tensors.of(scope, targets, s);
            NDArray logits = masks == null ? model.forward(x) : model.forward(x, masks);
            return logits.logSoftmax(-1).gather(y.expandDims(-1), -1).toFloatArray();
        }
    }

    @Override
    public void close() {
        model.close();
        manager.close();
        checkpoint.close();
    }
}
