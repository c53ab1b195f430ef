package org.nestlm.sizes;

import org.nestlm.io.DType;
import org.nestlm.model.LayerSpec;
import org.nestlm.model.ModelConfig;

import java.util.Locale;

/**
 * Inference memory of a sub-model deployed on its own (sliced), computed from its {@link Subnet}: the weights
 * at {@code dtype}, the KV cache of every kept attention layer (keys and values, {@code dtype}, {@code context}
 * positions) and the Mamba conv and SSM state of every kept Mamba layer (fp32, as {@code mamba_ssm_cache_dtype}
 * and nestlm's engine keep it), each for {@code batch} sequences. Activations are left out: they are a few
 * vectors per token at decode and do not grow with the context.
 *
 * <p>Conv state is the full kernel window ({@code convDim × K}), as nestlm's engine and Hugging Face's Mamba-2
 * cache hold it; SSM state is {@code heads × head_dim × N}.
 *
 * @param dtype   weight (and KV cache) element type
 * @param context positions of KV cache per sequence
 * @param batch   sequences held at once
 */
public record MemoryModel(DType dtype, int context, int batch) {

    /** Bytes of Mamba state elements: fp32 regardless of the weight dtype (the scan accumulates in fp32). */
    static final int STATE_BYTES = 4;

    public MemoryModel {
        if (!dtype.isFloatingPoint()) {
            throw new IllegalArgumentException("dtype must be a floating-point type, got " + dtype);
        }
        if (context < 1) {
            throw new IllegalArgumentException("context must be at least 1 token, got " + context);
        }
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be at least 1 sequence, got " + batch);
        }
    }

    /**
     * The memory of one sub-model, in bytes.
     *
     * @param weights    parameters × dtype bytes
     * @param kvCache    keys and values of the kept attention layers for context × batch positions
     * @param mambaState conv window and SSM state of the kept Mamba layers for batch sequences
     */
    public record Footprint(long weights, long kvCache, long mambaState) {
        public long total() {
            return weights + kvCache + mambaState;
        }
    }

    /** The footprint of {@code s}, a sub-model of the model described by {@code full}. */
    public Footprint of(Subnet s, ModelConfig full) {
        long weights = s.parameterCount(full) * dtype.byteSize();
        long kv = 0, state = 0;
        for (int i = 0; i < s.layers().size(); i++) {
            if (!s.kept().get(i)) {
                continue;
            }
            switch (s.layers().get(i)) {
                case LayerSpec.Attention a -> kv += 2L * a.kvHeads() * a.headDim() * context * batch * dtype.byteSize();
                case LayerSpec.Mamba m -> state += (long) STATE_BYTES * batch
                        * ((long) m.heads() * m.headDim() * full.ssmStateSize() + (long) m.convDim(full) * full.convKernel());
                case LayerSpec.Mlp ignored -> { }
            }
        }
        return new Footprint(weights, kv, state);
    }

    /** "1.5 GiB (weights 1.2 GiB bf16 + KV 0.3 GiB + Mamba state 1.1 MiB; context 4096, batch 1)". */
    public String describe(Footprint f) {
        return String.format(Locale.ROOT, "%s (weights %s %s + KV cache %s + Mamba state %s; context %d, batch %d)",
                formatBytes(f.total()), formatBytes(f.weights()), dtype.name().toLowerCase(Locale.ROOT),
                formatBytes(f.kvCache()), formatBytes(f.mambaState()), context, batch);
    }

    /**
     * Parses a memory size: plain bytes ({@code 1048576}), decimal units ({@code 2GB}, {@code 500M}, {@code 1.5kB})
     * or binary units ({@code 2GiB}, {@code 512MiB}); case-insensitive, spaces allowed before the unit.
     *
     * @throws IllegalArgumentException naming the text
     */
    public static long parseBytes(String text) {
        String s = text.trim().toUpperCase(Locale.ROOT).replace(" ", "");
        int i = 0;
        while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
            i++;
        }
        String unit = s.substring(i);
        double scale = switch (unit) {
            case "", "B" -> 1;
            case "K", "KB" -> 1e3;
            case "M", "MB" -> 1e6;
            case "G", "GB" -> 1e9;
            case "T", "TB" -> 1e12;
            case "KIB" -> 1L << 10;
            case "MIB" -> 1L << 20;
            case "GIB" -> 1L << 30;
            case "TIB" -> 1L << 40;
            default -> Double.NaN;
        };
        double v;
        try {
            v = Double.parseDouble(s.substring(0, i));
        } catch (NumberFormatException e) {
            v = Double.NaN;
        }
        if (Double.isNaN(scale) || Double.isNaN(v) || !(v > 0)) {
            throw new IllegalArgumentException("memory size '" + text + "' is not a positive size such as 2GB, 1.5GiB, 512MiB or 1048576");
        }
        return Math.round(v * scale);
    }

    /** Bytes in binary units: "14.41 MiB". */
    public static String formatBytes(long b) {
        return org.nestlm.util.Units.bytes(b, 2);
    }
}
