package org.nestlm.cli.bench;

import org.nestlm.model.Architecture;
import org.nestlm.model.LayerSpec;
import org.nestlm.model.ModelConfig;

/**
 * Matrix-multiply FLOPs of one forward token of a model, counted operand by operand as the training step executes
 * them (a multiply-add is 2 FLOPs), for {@code nestlm bench train}'s achieved GFLOP/s:
 * <ul>
 *   <li><b>projections</b>: Mamba in_proj {@code 2·H·(2I+2GN+nh)} and out_proj {@code 2·I·H}; attention q, k, v, o;
 *       MLP up and down {@code 4·H·F}; the LM head {@code 2·H·V};</li>
 *   <li><b>SSD scan</b>: per chunk of Q tokens (the sequence zero-padded to whole chunks, as {@code Ssd.chunked}
 *       runs it) C·Bᵀ {@code 2Q²N} per group, the masked intra-chunk product {@code 2Q²P} per head, the chunk
 *       states {@code 2QPN} and the entering-state output {@code 2QNP} per head; per sequence the inter-chunk
 *       recurrence {@code 2(c+1)²PN} per head;</li>
 *   <li><b>attention</b>: scores and context {@code 2·L·hd} each per head and token over the full L×L square (the
 *       causal half is masked, not skipped).</li>
 * </ul>
 * Not counted: the depthwise conv, norms, activations, softmaxes, the loss's elementwise work and the optimizer
 * (memory-bound elementwise work, a few FLOPs per element, small next to the matmuls on the presets). A training step's backward pass
 * costs two matmuls of the same size per forward matmul (gradients of both operands), so pretraining is 3× the
 * forward count and distillation 4× (the teacher's forward, the student's forward and backward).
 */
record TrainFlops(double projections, double scan, double attention) {

    /** Forward FLOPs per token at sequence length {@code len}. */
    static TrainFlops perToken(Architecture arch, int len) {
        ModelConfig c = arch.config();
        long hidden = arch.hiddenSize();
        double proj = 2.0 * hidden * c.vocabSize(), scan = 0, attn = 0;
        for (LayerSpec layer : arch.layers()) {
            switch (layer) {
                case LayerSpec.Mamba m -> {
                    long inner = m.innerSize(), h = m.heads(), p = m.headDim();
                    long g = c.nGroups(), n = c.ssmStateSize();
                    long q = Math.min(c.chunkSize(), len), chunks = (len + q - 1) / q;
                    proj += 2.0 * hidden * m.inProjRows(c) + 2.0 * inner * hidden;
                    double perChunk = 2.0 * q * q * n * g + 2.0 * q * q * p * h + 4.0 * q * p * n * h;
                    scan += (chunks * perChunk + 2.0 * (chunks + 1) * (chunks + 1) * p * n * h) / len;
                }
                case LayerSpec.Attention a -> {
                    long qo = (long) a.heads() * a.headDim(), kv = (long) a.kvHeads() * a.headDim();
                    proj += 4.0 * hidden * qo + 4.0 * hidden * kv;
                    attn += 4.0 * len * qo;
                }
                case LayerSpec.Mlp f -> proj += 4.0 * hidden * f.width();
            }
        }
        return new TrainFlops(proj, scan, attn);
    }

    double forward() {
        return projections + scan + attention;
    }
}
