package org.nestlm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv1d;

import java.util.ArrayList;
import java.util.List;

import static org.nestlm.model.MlpMixer.linear;

/**
 * Mamba-2 mixer (docs/ARCHITECTURE.md §4.2, §4.7), with the chunked prefill ({@link #forward}) and the
 * recurrent decode ({@link #step}) side by side. Steps, numbered as in the format document:
 * <ol>
 *   <li>in_proj, split into z | x | B | C | dt, sizes [I, I, G·N, G·N, nh];</li>
 *   <li>depthwise causal conv over x|B|C (kernel K) plus bias, then SiLU;</li>
 *   <li>{@code dt = softplus(dt + dt_bias)}, clamped to {@code time_step_limit} as the CUDA kernels do;
 *       {@code A = −exp(A_log)};</li>
 *   <li>the SSD scan ({@link Ssd}), plus the D skip {@code D_h·x_h};</li>
 *   <li>gated RMSNorm {@code norm(y·silu(z))} over G groups, then out_proj.</li>
 * </ol>
 */
public final class Mamba2Mixer implements Mixer {

    private final ModelConfig config;
    private final LayerSpec.Mamba spec;
    private final Param inProj;   // [2I + 2GN + nh, H]
    private final Param inBias;   // [2I + 2GN + nh] or null (use_bias)
    private final Param convW;    // [I + 2GN, 1, K]
    private final Param convB;    // [I + 2GN] or null (use_conv_bias)
    private final Param dtBias;   // [nh]
    private final Param aLog;     // [nh]
    private final Param d;        // [nh]
    private final Param norm;     // [I]
    private final Param outProj;  // [H, I]
    private final Param outBias;  // [H] or null

    Mamba2Mixer(ModelConfig config, LayerSpec.Mamba spec, Param inProj, Param inBias, Param convW, Param convB,
                Param dtBias, Param aLog, Param d, Param norm, Param outProj, Param outBias) {
        this.config = config;
        this.spec = spec;
        this.inProj = inProj;
        this.inBias = inBias;
        this.convW = convW;
        this.convB = convB;
        this.dtBias = dtBias;
        this.aLog = aLog;
        this.d = d;
        this.norm = norm;
        this.outProj = outProj;
        this.outBias = outBias;
    }

    public LayerSpec.Mamba spec() {
        return spec;
    }

    public List<Param> params() {
        List<Param> p = new ArrayList<>();
        p.add(inProj);
        if (inBias != null) {
            p.add(inBias);
        }
        p.add(convW);
        if (convB != null) {
            p.add(convB);
        }
        p.addAll(List.of(dtBias, aLog, d, norm, outProj));
        if (outBias != null) {
            p.add(outBias);
        }
        return p;
    }

    public NDArray forward(NDArray u, LayerCache cache, LayerMask mask,
                           java.util.function.BiConsumer<ActivationProbe.Site, NDArray> probe) {
        Shape s = u.getShape();
        long b = s.get(0), len = s.get(1);
        int inner = spec.innerSize(), nh = spec.heads(), hd = spec.headDim();
        int g = config.nGroups(), n = config.ssmStateSize(), k = config.convKernel();
        long convDim = spec.convDim(config);
        LayerCache.Mamba mc = cache instanceof LayerCache.Mamba c ? c : null;

        // 1. in_proj and split (split, not three slices: its backward concatenates the gradients instead of
        //    zero-filling a full-width gradient per slice)
        NDArray zxbcdt = linear(u, inProj, inBias);                                     // [b, L, 2I+2GN+nh]
        NDList parts = zxbcdt.split(new long[] {inner, inner + convDim}, 2);
        NDArray z = parts.get(0);                                                       // [b, L, I]
        NDArray xbc = parts.get(1);                                                     // [b, L, I+2GN]
        NDArray dtRaw = parts.get(2);                                                   // [b, L, nh]
        if (probe != null) {   // a slice of a split view, reshaped: a copy, so only when someone listens
            probe.accept(ActivationProbe.Site.MAMBA_X, xbc.get(new NDIndex("..., :{}", inner)).reshape(b, len, nh, hd));
        }

        // 2. causal depthwise conv: the cached last K inputs (zeros for a new sequence) are the left context.
        //    Without a cache the K-1 zeros are concatenated directly: the conv then reads a contiguous window
        //    instead of a strided slice of a K+L one (which it copied first, forward and backward).
        NDArray full = null;                                                            // [b, C, K+L], cache only
        NDArray window;                                                                 // [b, C, K-1+L]
        if (mc != null) {
            full = DjlScope.with(mc.convState.duplicate(), u).concat(xbc.transpose(0, 2, 1), 2);
            window = full.get(new NDIndex(":, :, 1:"));
        } else {
            window = u.getManager().zeros(new Shape(b, convDim, k - 1)).concat(xbc.transpose(0, 2, 1), 2);
        }
        NDArray conv = convB == null
                ? Conv1d.conv1d(window, convW.value(), null, new Shape(1), new Shape(0), new Shape(1), (int) convDim).singletonOrThrow()
                : Conv1d.conv1d(window, convW.value(), convB.value(), new Shape(1), new Shape(0), new Shape(1), (int) convDim).singletonOrThrow();
        if (mask.width() != null) {
            // masked x channels: zero the conv output before SiLU (silu(0) = 0), so the conv bias cannot leak
            // into them; B and C are never masked (docs/METHOD.md §4.3)
            NDArray ones = u.getManager().ones(new Shape(convDim - inner));
            conv = conv.mul(mask.width().concat(ones, 0).reshape(convDim, 1));
        }
        NDList xBC = Norms.silu(conv).transpose(0, 2, 1)
                .split(new long[] {inner, inner + (long) g * n}, 2);                    // [b, L, C] → x | B | C
        NDArray x = xBC.get(0).reshape(b, len, nh, hd);                                 // [b, L, nh, hd]
        NDArray bm = xBC.get(1).reshape(b, len, g, n);                                  // [b, L, g, n]
        NDArray cm = xBC.get(2).reshape(b, len, g, n);

        // 3. time step and decay rate
        NDArray dt = LayerMask.apply(timeStep(dtRaw), mask.heads());                  // [b, L, nh]; masked heads never update
        NDArray a = minusExpALog(u);                                                    // [nh]

        // 4. scan, continuing the cached state
        NDArray init = mc != null ? DjlScope.with(mc.ssmState.duplicate(), u) : null;
        Ssd.Result r = Ssd.chunked(x, dt, a, bm, cm, config.chunkSize(), init);
        NDArray y = r.y().add(x.mul(DjlScope.with(d.value().reshape(nh, 1), u)));     // [b, L, nh, hd]
        NDArray yFlat = LayerMask.apply(y.reshape(b, len, inner), mask.width());      // re-mask the SSM output
        if (mc != null) {
            mc.update(full.get(new NDIndex(":, :, {}:", len)), r.finalState());       // last K inputs, final state
        }

        // 5. gated norm and output projection
        NDArray gated = Norms.gatedRmsNorm(yFlat, z, norm.value(), g, config.layerNormEpsilon(), mask.width());
        return LayerMask.apply(linear(gated, outProj, outBias), mask.hidden());        // [b, L, H]
    }

    public NDArray step(NDArray u, LayerCache cache) {
        LayerCache.Mamba mc = (LayerCache.Mamba) cache;
        long b = u.getShape().get(0);
        int inner = spec.innerSize(), nh = spec.heads(), hd = spec.headDim();
        int g = config.nGroups(), n = config.ssmStateSize();
        long convDim = spec.convDim(config);

        // 1. in_proj and split
        NDArray zxbcdt = linear(u, inProj, inBias);                                     // [b, 2I+2GN+nh]
        NDArray z = zxbcdt.get(new NDIndex(":, :{}", inner));
        NDArray xbc = zxbcdt.get(new NDIndex(":, {}:{}", inner, inner + convDim));     // [b, C]
        NDArray dtRaw = zxbcdt.get(new NDIndex(":, {}:", inner + convDim));            // [b, nh]

        // 2. roll the conv window by one input and apply the kernel: Σ_k state[:, :, k]·w[:, 0, k] + bias
        NDArray window = DjlScope.with(mc.convState.get(new NDIndex(":, :, 1:")), u)
                .concat(xbc.expandDims(-1), 2);                                         // [b, C, K]
        NDArray kernel = DjlScope.with(convW.value().reshape(convDim, config.convKernel()), u); // [C, K]
        NDArray conv = window.mul(kernel).sum(new int[] {2});
        if (convB != null) {
            conv = conv.add(convB.value());
        }
        NDArray act = Norms.silu(conv);                                                 // [b, C]
        NDArray x = act.get(new NDIndex(":, :{}", inner)).reshape(b, nh, hd);
        NDArray bm = act.get(new NDIndex(":, {}:{}", inner, inner + (long) g * n)).reshape(b, g, n);
        NDArray cm = act.get(new NDIndex(":, {}:", inner + (long) g * n)).reshape(b, g, n);

        // 3. time step and decay rate
        NDArray dt = timeStep(dtRaw);                                                   // [b, nh]
        NDArray a = minusExpALog(u);

        // 4. one step of the recurrence from the cached fp32 state
        Ssd.Result r = Ssd.step(DjlScope.with(mc.ssmState.duplicate(), u), x, dt, a, bm, cm);
        NDArray y = r.y().add(x.mul(DjlScope.with(d.value().reshape(nh, 1), u)));     // [b, nh, hd]
        mc.update(window, r.finalState());

        // 5. gated norm and output projection
        NDArray gated = Norms.gatedRmsNorm(y.reshape(b, inner), z, norm.value(), g, config.layerNormEpsilon());
        return linear(gated, outProj, outBias);                                         // [b, H]
    }

    public LayerCache newCache(NDManager manager, int batch) {
        return new LayerCache.Mamba(manager,
                manager.zeros(new Shape(batch, spec.convDim(config), config.convKernel())),
                manager.zeros(new Shape(batch, spec.heads(), spec.headDim(), config.ssmStateSize())));
    }

    /** softplus(dt_raw + dt_bias) (threshold 20, as the kernels), clamped to time_step_limit when it is finite. */
    private NDArray timeStep(NDArray dtRaw) {
        NDArray dt = Activation.softPlus(dtRaw.add(dtBias.value()));
        if (config.clampsTimeStep()) {
            double hi = Math.min(config.timeStepLimitMax(), Float.MAX_VALUE);
            dt = dt.clip(config.timeStepLimitMin(), hi);
        }
        return dt;
    }

    /** A = −exp(A_log) [nh], owned by the activation's manager. */
    private NDArray minusExpALog(NDArray activation) {
        return DjlScope.with(aLog.value().exp(), activation).neg();
    }
}
