package org.nestlm.api;

import org.nestlm.infer.Engine;
import org.nestlm.infer.Generation;
import org.nestlm.infer.Generator;
import org.nestlm.infer.InferenceState;
import org.nestlm.infer.SamplingParams;
import org.nestlm.infer.SpeculativeStats;
import org.nestlm.infer.TokenText;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * One size of an open {@link Nestlm} checkpoint, ready to generate, chat, stream and score on the pure-Java engine.
 * A view: it holds no resources of its own and needs no closing; it stops working when its checkpoint is closed.
 * Thread-safe: every call runs its own decode state, so threads may use one instance at once.
 *
 * <pre>{@code
 * TextModel m = ckpt.model("50%");
 * Completion c = m.generate("Once upon a time", Sampling.greedy(32).withStop(List.of("\n")));
 * Completion answer = m.chat(List.of(ChatMessage.user("Hi!")), Sampling.defaults());
 * m.stream("The cat", Sampling.greedy(16), (id, text) -> System.out.print(text));
 * Score s = m.score("The cat sat.");
 * TextModel fast = ckpt.model().withDraft("50%", 4);   // self-speculative decoding
 * }</pre>
 */
public final class TextModel {

    /** Tokens per forward call when scoring: bounds the logits held at once to this many rows of the vocabulary. */
    static final int SCORE_PIECE = 64;

    private final Nestlm owner;
    private final Size size;
    private final Engine engine;
    private final Engine draft;          // null: plain decoding
    private final Size draftSize;        // null: plain decoding
    private final int draftTokens;
    private final SpeculativeStats stats = new SpeculativeStats();

    TextModel(Nestlm owner, Size size, Engine engine, Size draftSize, Engine draft, int draftTokens) {
        this.owner = owner;
        this.size = size;
        this.engine = engine;
        this.draftSize = draftSize;
        this.draft = draft;
        this.draftTokens = draftTokens;
    }

    /** Which size this is: id, budget, parameters, memory. */
    public Size size() {
        return size;
    }

    /** The speculative draft's size, when this model decodes speculatively ({@link #withDraft}). */
    public Optional<Size> draft() {
        return Optional.ofNullable(draftSize);
    }

    /** True when text can be encoded; without a tokenizer only the token-id methods work. */
    public boolean hasTokenizer() {
        return owner.text() != null;
    }

    /** The longest sequence (prompt plus generated tokens) the model is meant for. */
    public int contextLimit() {
        return engine.contextLimit();
    }

    /** Token ids of {@code text}. */
    public int[] encode(String text) throws NestlmException {
        return owner.locked(() -> tokenizer("text").encode(text));
    }

    /** The text of token ids. */
    public String decode(int[] ids) throws NestlmException {
        return owner.locked(() -> {
            checkIds(ids, "ids");
            return tokenizer("ids").decode(ids);
        });
    }

    /** Continues {@code prompt}. */
    public Completion generate(String prompt, Sampling sampling) throws NestlmException {
        return stream(prompt, sampling, null);
    }

    /** Continues a prompt given as token ids (works without a tokenizer, unless stop strings are given). */
    public Completion generate(int[] prompt, Sampling sampling) throws NestlmException {
        return stream(prompt, sampling, null);
    }

    /** Continues {@code prompt}, handing each token and the text that became final to {@code listener}. */
    public Completion stream(String prompt, Sampling sampling, TokenListener listener) throws NestlmException {
        return owner.locked(() -> run(tokenizer("prompt").encode(prompt), params(sampling, List.of()), listener));
    }

    /** As {@link #stream(String, Sampling, TokenListener)} for a prompt of token ids. */
    public Completion stream(int[] prompt, Sampling sampling, TokenListener listener) throws NestlmException {
        return owner.locked(() -> run(prompt.clone(), params(sampling, List.of()), listener));
    }

    /** The assistant's next turn after {@code messages}, in the {@link ChatTemplate#PLAIN} format. */
    public Completion chat(List<ChatMessage> messages, Sampling sampling) throws NestlmException {
        return chat(messages, sampling, ChatTemplate.PLAIN, null);
    }

    /**
     * The assistant's next turn after {@code messages}, rendered by {@code template} and stopped at its turn
     * markers as well as the sampling's stop strings; streamed to {@code listener} when it is not null.
     */
    public Completion chat(List<ChatMessage> messages, Sampling sampling, ChatTemplate template, TokenListener listener)
            throws NestlmException {
        if (messages == null || messages.isEmpty()) {
            throw NestlmException.badField("messages", "'messages' is empty: give at least one message");
        }
        return owner.locked(() -> {
            int[] prompt = tokenizer("messages").encode(template.render(messages));
            return run(prompt, params(sampling, template.stops()), listener);
        });
    }

    /** Log-probabilities of the tokens of {@code text}. */
    public Score score(String text) throws NestlmException {
        return owner.locked(() -> scoreIds(tokenizer("text").encode(text)));
    }

    /** Log-probabilities of every token after the first: one forward pass over the sequence (no sampling). */
    public Score score(int[] tokens) throws NestlmException {
        return owner.locked(() -> scoreIds(tokens.clone()));
    }

    /**
     * This size decoding self-speculatively: the smaller nested size {@code draftBudget} of the same checkpoint
     * proposes {@code draftTokens} tokens per round and this size verifies them in one pass. The output is
     * distributed exactly as this size's own (greedy output is identical); only the speed differs.
     *
     * @throws NestlmException naming {@code budget} or {@code draft_tokens}
     */
    public TextModel withDraft(String draftBudget, int draftTokens) throws NestlmException {
        if (draftTokens < 1) {
            throw NestlmException.badField("draft_tokens", "draft tokens must be at least 1, got " + draftTokens);
        }
        return owner.locked(() -> {
            TextModel d = owner.draftFor(draftBudget);
            if (d.size.parameters() >= size.parameters()) {
                throw NestlmException.badField("budget", "the draft (" + d.size.id() + ", " + d.size.parameters()
                        + " parameters) must be smaller than the model it drafts for (" + size.id() + ", " + size.parameters() + ")");
            }
            return new TextModel(owner, size, engine, d.size, d.engine, draftTokens);
        });
    }

    /** Acceptance counts of speculative decoding over this instance's generations (zero without a draft). */
    public Speculation speculation() {
        return new Speculation(stats.rounds(), stats.proposed(), stats.accepted());
    }

    // ----

    private Completion run(int[] prompt, SamplingParams params, TokenListener listener) throws NestlmException {
        if (prompt.length == 0) {
            throw NestlmException.badField("prompt", "the prompt has no tokens");
        }
        checkIds(prompt, "prompt");
        if (prompt.length > engine.contextLimit()) {
            throw NestlmException.badField("prompt", "the prompt has " + prompt.length + " tokens, more than the context limit of "
                    + engine.contextLimit());
        }
        if (!params.stop().isEmpty() && owner.text() == null) {
            throw NestlmException.badField("stop", "stop strings need a tokenizer: " + owner.tokenizerFile() + " does not exist");
        }
        Generator g = draft == null ? new Generator(engine, owner.text())
                : new Generator(engine, owner.text(), draft, draftTokens, stats);
        Generation out = g.generate(prompt, params, listener == null ? null : listener::onToken);
        return new Completion(out.text(), out.tokens(), prompt.length, Completion.Finish.valueOf(out.finish().name()),
                size.id(), out.prefillTokensPerSecond(), out.decodeTokensPerSecond());
    }

    private Score scoreIds(int[] ids) throws NestlmException {
        if (ids.length == 0) {
            throw NestlmException.badField("text", "nothing to score: the input has no tokens");
        }
        checkIds(ids, "text");
        if (ids.length > engine.contextLimit()) {
            throw NestlmException.badField("text", "the input has " + ids.length + " tokens, more than the context limit of "
                    + engine.contextLimit());
        }
        int vocab = engine.vocabSize();
        double[] lp = new double[ids.length - 1];
        double nll = 0;
        InferenceState state = engine.newState();
        // position t predicts token t+1: feed all but the last token, in pieces (the state carries across)
        for (int start = 0; start < ids.length - 1; start += SCORE_PIECE) {
            int n = Math.min(SCORE_PIECE, ids.length - 1 - start);
            float[] logits = engine.forward(state, Arrays.copyOfRange(ids, start, start + n), true);   // [n, V]
            for (int t = 0; t < n; t++) {
                int off = t * vocab;
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < vocab; j++) {
                    max = Math.max(max, logits[off + j]);
                }
                double sum = 0;
                for (int j = 0; j < vocab; j++) {
                    sum += Math.exp(logits[off + j] - max);
                }
                lp[start + t] = logits[off + ids[start + t + 1]] - max - Math.log(sum);
                nll -= lp[start + t];
            }
        }
        return new Score(ids, lp, nll);
    }

    private TokenText tokenizer(String field) throws NestlmException {
        TokenText t = owner.text();
        if (t == null) {
            throw NestlmException.badField(field, "this model has no tokenizer (" + owner.tokenizerFile()
                    + " does not exist): pass token ids, or open with OpenOptions.withTokenizer");
        }
        return t;
    }

    private void checkIds(int[] ids, String field) throws NestlmException {
        int vocab = engine.vocabSize();
        for (int id : ids) {
            if (id < 0 || id >= vocab) {
                throw NestlmException.badField(field, "token id " + id + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
    }

    /** The engine's sampling parameters; a bad value is named by its field. */
    private static SamplingParams params(Sampling s, List<String> extraStops) throws NestlmException {
        if (s == null) {
            throw NestlmException.badField("sampling", "sampling parameters are missing (Sampling.defaults())");
        }
        List<String> stops = new ArrayList<>(s.stop());
        stops.addAll(extraStops);
        try {
            return new SamplingParams(s.maxTokens(), s.temperature(), s.topK(), s.topP(), s.seed(), stops, s.ignoreEos());
        } catch (IllegalArgumentException e) {
            String msg = e.getMessage();
            String field = "stop";
            for (String f : List.of("max_tokens", "temperature", "top_k", "top_p")) {
                if (msg.startsWith(f)) {
                    field = f;
                }
            }
            throw NestlmException.badField(field, msg);
        }
    }
}
