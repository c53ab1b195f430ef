package org.nestlm.infer;

/**
 * Where the generation loop gets its tokens from: plain decoding (one target step per token) or speculative
 * decoding (a nested draft proposes, the target verifies several at once). Both hold back the newest token
 * until the next one is asked for, so nothing is computed for a token that is never continued.
 */
interface Decoder {

    /** Consumes the prompt (at least one token). */
    void prefill(int[] prompt);

    /** The next token. */
    int next();

    /** Plain decoding: sample from the target's logits, feed the token, repeat. */
    final class Plain implements Decoder {
        private final Engine engine;
        private final InferenceState state;
        private final Sampler sampler;
        private float[] logits;
        private int pending = -1;   // sampled but not yet fed

        Plain(Engine engine, InferenceState state, Sampler sampler) {
            this.engine = engine;
            this.state = state;
            this.sampler = sampler;
        }

        public void prefill(int[] prompt) {
            logits = engine.forward(state, prompt, false);
        }

        public int next() {
            if (pending >= 0) {
                logits = engine.step(state, pending);
            }
            pending = sampler.sample(logits, 0, engine.vocabSize());
            return pending;
        }
    }
}
