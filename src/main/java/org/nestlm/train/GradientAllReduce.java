package org.nestlm.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.nestlm.dist.Communicator;
import org.nestlm.model.Param;
import org.nestlm.model.Tensors;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * Sums the accumulated gradients of a model across the ranks of a data-parallel job, between the last backward
 * pass of a step and {@link AdamW#step}: every rank then holds the gradient of the whole global batch and applies
 * the same update. The gradients are copied into one off-heap fp32 buffer (the parameters in order), summed over the
 * ranks in rank order ({@link Communicator#sumInRankOrder}), and copied back into libtorch's gradient storage. The copies go through views of that
 * storage (no tensor is made from Java memory). A parameter that no backward pass has reached has no gradient
 * storage (DJL hands out a detached zero tensor): the constructor gives every parameter one, zeros, by a backward
 * pass through 0·Σw, so that a rank whose micro-batches miss a parameter (the router's choices in elastic training)
 * still receives the other ranks' gradient for it.
 *
 * <p>When every rank computes one micro-batch of a step (accumulation = ranks), rank r's gradient is micro-batch r's,
 * and the rank-order sum ((g₀ + g₁) + g₂) + … is exactly what one process accumulating the micro-batches one after
 * another computes: the result is bit-identical to it for any number of ranks. With more micro-batches per rank,
 * each rank first sums its own (r, r + N, …), a different grouping, and the results agree within fp32 rounding. A
 * single-rank communicator does nothing.
 */
public final class GradientAllReduce implements AutoCloseable {

    private final List<Param> params;
    private final Communicator comm;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment buffer;
    private final long[] offsets;   // element offset of each parameter's gradient in the buffer
    private long nanos;

    public GradientAllReduce(List<Param> params, Communicator comm) {
        this.params = List.copyOf(params);
        this.comm = comm;
        offsets = new long[this.params.size()];
        long n = 0;
        for (int i = 0; i < offsets.length; i++) {
            offsets[i] = n;
            n += this.params.get(i).numel();
        }
        buffer = comm.size() == 1 ? MemorySegment.NULL : arena.allocate(ValueLayout.JAVA_FLOAT, n);
        if (comm.size() > 1) {
            defineGradients(this.params);
        }
    }

    /** Backward of 0·Σ_p sum(p): every parameter gets gradient storage holding zeros (and the values do not move). */
    private static void defineGradients(List<Param> params) {
        try (NDManager scope = NDManager.newBaseManager();
             GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray total = null;
            for (Param p : params) {
                NDArray s = p.value().sum();
                total = total == null ? s : total.add(s);
            }
            if (total != null) {
                total.attach(scope);
                gc.backward(total.mul(scope.zeros(new Shape())));
            }
        }
    }

    /** Replaces every parameter's gradient by its sum over ranks. */
    public void sum() {
        if (comm.size() == 1) {
            return;
        }
        long t0 = System.nanoTime();
        NDArray[] grads = new NDArray[params.size()];
        try {
            for (int i = 0; i < grads.length; i++) {
                grads[i] = params.get(i).value().getGradient();
                long bytes = params.get(i).numel() * Float.BYTES;
                MemorySegment.copy(Tensors.storage(grads[i]), 0, buffer, offsets[i] * Float.BYTES, bytes);
            }
            comm.sumInRankOrder(buffer);
            for (int i = 0; i < grads.length; i++) {
                long bytes = params.get(i).numel() * Float.BYTES;
                MemorySegment.copy(buffer, offsets[i] * Float.BYTES, Tensors.storage(grads[i]), 0, bytes);
            }
        } finally {
            for (NDArray g : grads) {
                if (g != null) {
                    g.close();                                  // the handle; the gradient stays with its parameter
                }
            }
            nanos += System.nanoTime() - t0;
        }
    }

    /** Time spent in {@link #sum()} so far (copies and the all-reduce), for benchmarks and logs. */
    public long nanos() {
        return nanos;
    }

    @Override
    public void close() {
        arena.close();
    }
}
