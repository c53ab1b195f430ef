package org.nestlm.infer;

/**
 * The generation loop of one sequence: prefill the prompt, then sample and decode one token at a time until
 * the {@link Continuation} ends (max tokens, the end-of-sequence token, a stop string or the context limit),
 * streaming text as it becomes final.
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
        Continuation c = new Continuation(params, text, engine.config().eosTokenId(), limit, listener);
        long t0 = System.nanoTime();
        long prefill = 0;
        if (c.done()) {
            return new Generation(prompt.clone(), new int[0], c.text(), FinishReason.LENGTH, 0, 0);
        }
        Sampler sampler = new Sampler(params);
        Decoder decoder = draft == null ? new Decoder.Plain(engine, state, sampler)
                : new SpeculativeDecoder(engine, state, draft, sampler, draftTokens, stats);
        decoder.prefill(prompt);
        boolean first = true;
        while (true) {
            int token = decoder.next();
            if (first) {
                prefill = System.nanoTime() - t0;
                first = false;
            }
            if (!c.accept(token, state.position())) {
                break;
            }
        }
        c.end();
        long decode = System.nanoTime() - t0 - prefill;
        return new Generation(prompt.clone(), c.tokens(), c.text(), c.finish(), prefill, decode);
    }
}
