package org.nestlm.infer;

import java.util.Arrays;

/**
 * The generation loop: prefill the prompt, then sample and decode one token at a time until max tokens,
 * the end-of-sequence token, a stop string or the context limit. With a tokenizer, text is streamed as it
 * becomes final: the whole continuation is decoded after every token (so multi-token characters come out
 * whole), and text that could still be the start of a stop string is held back.
 */
public final class Generator {

    private final Engine engine;
    private final TokenText text;   // may be null: ids only, no stop strings
    private final Engine draft;     // may be null: plain decoding
    private final int draftTokens;
    private final SpeculativeStats stats;

    public Generator(Engine engine, TokenText text) {
        this(engine, text, null, 0, null);
    }

    /**
     * A generator that decodes speculatively: {@code draft} (a nested smaller model) proposes
     * {@code draftTokens} tokens per round and {@code engine} verifies them ({@link SpeculativeDecoder}).
     *
     * @param stats where acceptance counts go; may be null
     */
    public Generator(Engine engine, TokenText text, Engine draft, int draftTokens, SpeculativeStats stats) {
        this.engine = engine;
        this.text = text;
        this.draft = draft;
        this.draftTokens = draftTokens;
        this.stats = stats != null ? stats : new SpeculativeStats();
    }

    /** Acceptance counts of speculative decoding (all zero for plain decoding). */
    public SpeculativeStats stats() {
        return stats;
    }

    /** Generates from a fresh state. */
    public Generation generate(int[] prompt, SamplingParams params, GenerationListener listener) {
        return generate(engine.newState(), prompt, params, listener);
    }

    /**
     * Generates after {@code state} (advanced in place), feeding {@code prompt} first.
     *
     * @throws IllegalArgumentException for an empty prompt, a prompt beyond the context limit, or stop strings
     *                                  without a tokenizer
     */
    public Generation generate(InferenceState state, int[] prompt, SamplingParams params, GenerationListener listener) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt is empty: at least one token is needed");
        }
        int limit = engine.contextLimit();
        if (state.position() + prompt.length > limit) {
            throw new IllegalArgumentException("the prompt has " + (state.position() + prompt.length)
                    + " tokens, more than the context limit of " + limit);
        }
        if (!params.stop().isEmpty() && text == null) {
            throw new IllegalArgumentException("stop strings need a tokenizer");
        }
        int eos = engine.config().eosTokenId();
        Sampler sampler = new Sampler(params);
        int[] out = new int[Math.min(params.maxTokens(), 1024)];
        int count = 0;
        FinishReason finish = FinishReason.LENGTH;
        String finalText = text == null ? null : "";
        int emitted = 0;   // chars of the text already handed to the listener
        int hold = Math.max(0, params.longestStop() - 1);

        long t0 = System.nanoTime();
        long prefill = 0;
        if (params.maxTokens() == 0) {
            return new Generation(prompt.clone(), new int[0], finalText, FinishReason.LENGTH, 0, 0);
        }
        Decoder decoder = draft == null ? new Decoder.Plain(engine, state, sampler)
                : new SpeculativeDecoder(engine, state, draft, sampler, draftTokens, stats);
        decoder.prefill(prompt);
        while (true) {
            int token = decoder.next();
            if (count == 0) {
                prefill = System.nanoTime() - t0;
            }
            if (token == eos && !params.ignoreEos()) {
                finish = FinishReason.EOS;
                break;
            }
            if (count == out.length) {
                out = Arrays.copyOf(out, Math.min(params.maxTokens(), out.length * 2));
            }
            out[count++] = token;
            String delta = null;
            if (text != null) {
                String full = text.decode(Arrays.copyOf(out, count));
                int cut = firstStop(full, params, Math.max(0, emitted - hold));
                if (cut >= 0) {
                    finalText = full.substring(0, cut);
                    listener(listener, token, finalText.substring(Math.min(emitted, cut)));
                    emitted = finalText.length();
                    finish = FinishReason.STOP;
                    break;
                }
                finalText = full;
                // hold back an incomplete character and anything that may begin a stop string
                int safe = full.endsWith("\uFFFD") ? full.lastIndexOf('\uFFFD') : full.length();
                safe = Math.max(emitted, Math.min(safe, full.length() - hold));
                delta = full.substring(emitted, safe);
                emitted = safe;
            }
            listener(listener, token, delta);
            if (count == params.maxTokens() || state.position() + 1 > limit) {
                break;
            }
        }
        if (text != null && emitted < finalText.length()) {
            listener(listener, -1, finalText.substring(emitted));
        }
        long decode = System.nanoTime() - t0 - prefill;
        return new Generation(prompt.clone(), Arrays.copyOf(out, count), finalText, finish, prefill, decode);
    }

    private static void listener(GenerationListener l, int token, String delta) {
        if (l != null) {
            l.onToken(token, delta);
        }
    }

    /** Index of the earliest stop string in {@code s} found at or after {@code from}, or −1. */
    private static int firstStop(String s, SamplingParams p, int from) {
        int best = -1;
        for (String stop : p.stop()) {
            int i = s.indexOf(stop, from);
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
            }
        }
        return best;
    }
}
