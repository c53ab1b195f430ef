package org.nestlm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * The Mamba-2 state-space scan ("SSD"), in its two equivalent forms side by side:
 * {@link #chunked} for prefill and training (chunk-parallel, the SSD paper's Listing 1 / mamba2-minimal
 * {@code ssd}), and {@link #step} for decode (one token of the recurrence, mamba2-minimal {@code step}).
 *
 * <p>Both compute, per head h with B/C group g(h):
 * <pre>
 *   state_h ← exp(dt·A_h)·state_h + dt·x_h ⊗ B_g      [hd, N], starting from the initial state (or 0)
 *   y_h     = state_h · C_g                            [hd]      (the D skip is added by the mixer)
 * </pre>
 * Letters in shape comments: b batch, c chunk, l/s position in a chunk, h heads, p head dim, n state, g groups,
 * j head within its group (h = g·(h/g) + j). B and C stay per group in the chunked form, as in the reference.
 */
public final class Ssd {

    private Ssd() {
    }

    /** Output of a scan: y [b, L, h, p] and the state after the last token [b, h, p, n]. */
    public record Result(NDArray y, NDArray finalState) {
    }

    /**
     * Chunked scan over a whole sequence.
     *
     * @param x         [b, L, h, p]
     * @param dt        [b, L, h], after softplus (and clamp)
     * @param a         [h], A = −exp(A_log)
     * @param bm        [b, L, g, n]
     * @param cm        [b, L, g, n]
     * @param chunk     chunk length Q (numerics only: any Q gives the same function)
     * @param initState [b, h, p, n] or null for zeros
     */
    public static Result chunked(NDArray x, NDArray dt, NDArray a, NDArray bm, NDArray cm, int chunk, NDArray initState) {
        NDManager m = x.getManager();
        Shape xs = x.getShape();
        long b = xs.get(0), len = xs.get(1), h = xs.get(2), p = xs.get(3);
        long n = bm.getShape().get(3), g = bm.getShape().get(2);
        long q = Math.min(chunk, len);
        long nc = (len + q - 1) / q;
        long t = nc * q;
        if (t > len) {
            // Zero padding: dt = 0 gives dt·A = 0 and dt·x = 0, so padded steps leave the state unchanged.
            long pad = t - len;
            x = x.concat(m.zeros(new Shape(b, pad, h, p)), 1);
            dt = dt.concat(m.zeros(new Shape(b, pad, h)), 1);
            bm = bm.concat(m.zeros(new Shape(b, pad, g, n)), 1);
            cm = cm.concat(m.zeros(new Shape(b, pad, g, n)), 1);
        }
        long hg = h / g;                                                         // heads per group: head h reads group h / hg
        NDArray xc = x.mul(dt.expandDims(-1))                                    // X = x·dt, discretised input
                .reshape(b, nc, q, g, hg, p).transpose(0, 1, 3, 4, 2, 5);        // [b, c, g, j, l, p]
        NDArray ad = dt.mul(a).reshape(b, nc, q, g, hg).transpose(0, 3, 4, 1, 2); // dt·A  [b, g, j, c, l]
        NDArray bc = bm.reshape(b, nc, q, g, n).transpose(0, 1, 3, 2, 4);        // [b, c, g, l, n]  per group, never per head
        NDArray cc = cm.reshape(b, nc, q, g, n).transpose(0, 1, 3, 2, 4);        // [b, c, g, l, n]
        NDArray acum = ad.cumSum(-1);                                            // [b, g, j, c, l]

        // 1. Intra-chunk output (diagonal blocks): Y_diag[l] = Σ_{s≤l} (C_l·B_s)·exp(Σ_{s<k≤l} a_k)·X_s
        NDArray decay = segsumExp(ad).transpose(0, 3, 1, 2, 4, 5);               // [b, c, g, j, l, s]
        NDArray cb = cc.matMul(bc.transpose(0, 1, 2, 4, 3)).expandDims(3);      // C·Bᵀ once per group [b, c, g, 1, l, s]
        NDArray yDiag = cb.mul(decay).matMul(xc);                                // [b, c, g, j, l, p]

        // 2. State at the end of each chunk, from that chunk's inputs alone
        NDArray last = acum.get(new NDIndex("..., {}:", q - 1));                 // [b, g, j, c, 1]
        NDArray decayStates = last.sub(acum).exp().transpose(0, 3, 1, 2, 4).expandDims(-1); // [b, c, g, j, l, 1]
        NDArray states = xc.mul(decayStates).transpose(0, 1, 2, 3, 5, 4)
                .matMul(bc.expandDims(3));                                       // [b, c, g, j, p, n]

        // 3. Inter-chunk recurrence: the state entering each chunk, summed over the *source* chunk
        NDArray init = initState != null ? initState.reshape(b, g, hg, p, n) : m.zeros(new Shape(b, g, hg, p, n));
        states = init.expandDims(1).concat(states, 1);                           // [b, c+1, g, j, p, n]
        NDArray chunkDecay = last.squeeze(-1);                                   // [b, g, j, c]  total dt·A per chunk
        chunkDecay = m.zeros(new Shape(b, g, hg, 1)).concat(chunkDecay, -1);     // [b, g, j, c+1]
        NDArray decayChunk = segsumExp(chunkDecay);                              // [b, g, j, z, c]  (z = target, c = source)
        NDArray flat = states.transpose(0, 2, 3, 1, 4, 5).reshape(b, g, hg, nc + 1, p * n);
        NDArray carried = decayChunk.matMul(flat).reshape(b, g, hg, nc + 1, p, n); // [b, g, j, c+1, p, n]
        NDArray finalState = carried.get(new NDIndex(":, :, :, {}", nc)).reshape(b, h, p, n); // [b, h, p, n]
        NDArray entering = carried.get(new NDIndex(":, :, :, :{}", nc))
                .transpose(0, 3, 1, 2, 4, 5);                                    // [b, c, g, j, p, n]

        // 4. Contribution of the entering state to each position: Y_off[l] = C_l · S · exp(Σ_{k≤l} a_k)
        NDArray decayOut = acum.exp().transpose(0, 3, 1, 2, 4).expandDims(-1);   // [b, c, g, j, l, 1]
        NDArray yOff = cc.expandDims(3).matMul(entering.transpose(0, 1, 2, 3, 5, 4))
                .mul(decayOut);                                                  // [b, c, g, j, l, p]

        NDArray y = yDiag.add(yOff).transpose(0, 1, 4, 2, 3, 5).reshape(b, t, h, p); // [b, T, h, p]
        if (t > len) {
            y = y.get(new NDIndex(":, :{}", len));
        }
        return new Result(y, finalState);
    }

    /**
     * exp(segsum(a)) with the upper triangle zero: out[..., i, j] = exp(Σ_{j<k≤i} a_k) for i ≥ j, else 0.
     * Summing the masked terms (instead of subtracting two cumulative sums) avoids cancellation, and since
     * dt·A ≤ 0 no entry can overflow, so masking by multiplication needs no −inf.
     *
     * @param a [..., T]
     * @return [..., T, T]
     */
    static NDArray segsumExp(NDArray a) {
        NDManager m = a.getManager();
        Shape s = a.getShape();
        int len = (int) s.get(s.dimension() - 1);
        float[] strict = new float[len * len];
        float[] lower = new float[len * len];
        for (int i = 0; i < len; i++) {
            for (int j = 0; j <= i; j++) {
                lower[i * len + j] = 1f;
                if (i > j) {
                    strict[i * len + j] = 1f;
                }
            }
        }
        NDArray strictMask = Tensors.of(m, strict, new Shape(len, len));
        NDArray lowerMask = Tensors.of(m, lower, new Shape(len, len));
        NDArray rows = a.expandDims(-1).broadcast(s.add(len));                   // rows[..., d, e] = a[d]
        NDArray sums = rows.mul(strictMask).cumSum(-2);                          // Σ_{e<d≤i} a_d
        return sums.exp().mul(lowerMask);
    }

    /**
     * One step of the recurrence for every sequence of the batch.
     *
     * @param state [b, h, p, n], fp32
     * @param x     [b, h, p]
     * @param dt    [b, h]
     * @param a     [h]
     * @param bm    [b, g, n]
     * @param cm    [b, g, n]
     * @return y [b, h, p] (without the D skip) and the new state [b, h, p, n]
     */
    public static Result step(NDArray state, NDArray x, NDArray dt, NDArray a, NDArray bm, NDArray cm) {
        long h = x.getShape().get(1), g = bm.getShape().get(1);
        NDArray bh = bm.repeat(1, h / g);                                        // [b, h, n]
        NDArray ch = cm.repeat(1, h / g);                                        // [b, h, n]
        NDArray da = dt.mul(a).exp().expandDims(-1).expandDims(-1);              // exp(dt·A) [b, h, 1, 1]
        NDArray dbx = x.mul(dt.expandDims(-1)).expandDims(-1)
                .mul(bh.expandDims(2));                                          // dt·x ⊗ B [b, h, p, n]
        NDArray next = state.mul(da).add(dbx);
        NDArray y = next.matMul(ch.expandDims(-1)).squeeze(-1);                  // [b, h, p]
        return new Result(y, next);
    }

    /**
     * The plain recurrence over a whole sequence, token by token: the reference the chunked form is tested
     * against. Shapes as in {@link #chunked}.
     */
    public static Result sequential(NDArray x, NDArray dt, NDArray a, NDArray bm, NDArray cm, NDArray initState) {
        Shape xs = x.getShape();
        NDArray state = initState != null ? initState
                : x.getManager().zeros(new Shape(xs.get(0), xs.get(2), xs.get(3), bm.getShape().get(3)));
        NDList ys = new NDList();
        for (long t = 0; t < xs.get(1); t++) {
            NDIndex at = new NDIndex(":, {}", t);
            Result r = step(state, x.get(at), dt.get(at), a, bm.get(at), cm.get(at));
            ys.add(r.y());
            state = r.finalState();
        }
        return new Result(NDArrays.stack(ys, 1), state);
    }
}
