package org.nestlm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayList;
import java.util.List;

import static org.nestlm.model.MlpMixer.linear;

/**
 * Causal grouped-query attention with no positional encoding (docs/ARCHITECTURE.md §4.4): query head j
 * reads KV head {@code j / (nH/nKV)}; scores scaled by {@code head_dim^-0.5}; softmax in fp32.
 */
public final class AttentionMixer implements Mixer {

    private final LayerSpec.Attention spec;
    private final Param q;   // [nH·hd, H]
    private final Param k;   // [nKV·hd, H]
    private final Param v;   // [nKV·hd, H]
    private final Param o;   // [H, nH·hd]
    private final Param qBias, kBias, vBias, oBias;   // [rows] each, or null without attention_bias

    AttentionMixer(LayerSpec.Attention spec, Param q, Param k, Param v, Param o,
                   Param qBias, Param kBias, Param vBias, Param oBias) {
        this.spec = spec;
        this.q = q;
        this.k = k;
        this.v = v;
        this.o = o;
        this.qBias = qBias;
        this.kBias = kBias;
        this.vBias = vBias;
        this.oBias = oBias;
    }

    public LayerSpec.Attention spec() {
        return spec;
    }

    public List<Param> params() {
        List<Param> p = new ArrayList<>(List.of(q, k, v, o));
        if (qBias != null) {
            p.addAll(List.of(qBias, kBias, vBias, oBias));
        }
        return p;
    }

    public NDArray forward(NDArray u, LayerCache cache, LayerMask mask,
                           java.util.function.BiConsumer<ActivationProbe.Site, NDArray> probe) {
        Shape s = u.getShape();
        long b = s.get(0), len = s.get(1);
        int nh = spec.heads(), nkv = spec.kvHeads(), hd = spec.headDim();
        NDArray qh = linear(u, q, qBias).reshape(b, len, nh, hd).transpose(0, 2, 1, 3);   // [b, nH, L, hd]
        NDArray kh = linear(u, k, kBias).reshape(b, len, nkv, hd).transpose(0, 2, 1, 3);  // [b, nKV, L, hd]
        NDArray vh = linear(u, v, vBias).reshape(b, len, nkv, hd).transpose(0, 2, 1, 3);  // [b, nKV, L, hd]
        long past = 0;
        if (cache instanceof LayerCache.KeyValue kv) {
            past = kv.length();
            if (past > 0) {
                kh = DjlScope.with(kv.keys.concat(kh, 2), u);                              // [b, nKV, T, hd]
                vh = DjlScope.with(kv.values.concat(vh, 2), u);
            }
            kv.update(kh.duplicate(), vh.duplicate());                                      // the cache keeps its own copy
        }
        long total = past + len;
        NDArray kx = kh.repeat(1, spec.groupSize());                                        // [b, nH, T, hd]
        NDArray vx = vh.repeat(1, spec.groupSize());
        NDArray scores = Tensors.mul(qh, Math.pow(hd, -0.5)).matMul(kx.transpose(0, 1, 3, 2));       // [b, nH, L, T], scaled on q (T/hd× fewer multiplies)
        if (len > 1) {
            scores = scores.add(causalMask(u.getManager(), len, past, total));
        }
        NDArray context = scores.softmax(-1).matMul(vx).transpose(0, 2, 1, 3);              // [b, L, nH, hd]
        if (probe != null) {
            probe.accept(ActivationProbe.Site.ATTENTION_CONTEXT, context);
        }
        if (mask.heads() != null) {
            context = context.mul(mask.heads().reshape(nh, 1));                             // query heads within KV groups
        }
        NDArray out = linear(context.reshape(b, len, (long) nh * hd), o, oBias);            // [b, L, H]
        return LayerMask.apply(out, mask.hidden());
    }

    public NDArray step(NDArray u, LayerCache cache) {
        long b = u.getShape().get(0);
        NDArray out = forward(u.reshape(b, 1, u.getShape().get(1)), cache);
        return out.reshape(b, out.getShape().get(2));
    }

    public LayerCache newCache(NDManager manager, int batch) {
        return new LayerCache.KeyValue(manager);
    }

    /** Additive mask [L, T]: query i (absolute position past+i) may read key j ≤ past+i. */
    private static NDArray causalMask(NDManager m, long len, long past, long total) {
        float[] mask = new float[Math.toIntExact(len * total)];
        for (int i = 0; i < len; i++) {
            for (long j = past + i + 1; j < total; j++) {
                mask[(int) (i * total + j)] = Float.NEGATIVE_INFINITY;
            }
        }
        return Tensors.of(m, mask, new Shape(len, total));
    }
}
