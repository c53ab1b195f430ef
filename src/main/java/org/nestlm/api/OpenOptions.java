package org.nestlm.api;

import java.nio.file.Path;

/**
 * How {@link Nestlm#open(Path, OpenOptions)} opens a checkpoint.
 *
 * @param threads   compute threads shared by every size; 0 = one per available processor
 * @param tokenizer a {@code tokenizer.json} to use instead of the checkpoint's own; null for the checkpoint's
 *                  (a checkpoint without one runs on token ids only)
 * @param context   tokens of KV cache per sequence that {@link Size#memoryBytes()} and memory limits count
 * @param batch     sequences held at once that memory figures count
 * @param quantize  quantise the full model's projections and lm_head to int8 at load (groups of 32 columns, one
 *                  scale each: about half the BF16 bytes read per token); the full model only, since nested sizes
 *                  are views of the mapped weights
 */
public record OpenOptions(int threads, Path tokenizer, int context, int batch, boolean quantize) {

    /** Tokens of context counted by the memory figures unless set otherwise (as {@code nestlm --context}). */
    public static final int DEFAULT_CONTEXT = 4096;

    public OpenOptions {
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be ≥ 0 (0: one per processor), got " + threads);
        }
        if (context < 1 || batch < 1) {
            throw new IllegalArgumentException("context and batch must be at least 1, got " + context + " and " + batch);
        }
    }

    /** One thread per processor, the checkpoint's tokenizer, memory counted at 4096 tokens and one sequence. */
    public static OpenOptions defaults() {
        return new OpenOptions(0, null, DEFAULT_CONTEXT, 1, false);
    }

    public OpenOptions withThreads(int threads) {
        return new OpenOptions(threads, tokenizer, context, batch, quantize);
    }

    public OpenOptions withTokenizer(Path tokenizer) {
        return new OpenOptions(threads, tokenizer, context, batch, quantize);
    }

    /** Memory figures for {@code context} tokens and {@code batch} sequences. */
    public OpenOptions withMemoryCounted(int context, int batch) {
        return new OpenOptions(threads, tokenizer, context, batch, quantize);
    }

    /** With {@code q8}, the full model runs on int8 weights ({@link #quantize()}). */
    public OpenOptions withQuantize(boolean q8) {
        return new OpenOptions(threads, tokenizer, context, batch, q8);
    }

    int resolvedThreads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }
}
