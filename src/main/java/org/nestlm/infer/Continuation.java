package org.nestlm.infer;

import java.util.Arrays;

/**
 * The bookkeeping of one generation after its prompt, token by token, whoever computes the tokens (the
 * one-sequence {@link Generator} or a batch scheduler): the tokens so far, when to end (max tokens, the
 * end-of-sequence token, a stop string, the context limit) and, with a tokenizer, the text streamed as it
 * becomes final — the whole continuation is decoded after every token (so multi-token characters come out
 * whole), and text that could still be the start of a stop string is held back.
 */
public final class Continuation {

    private final SamplingParams params;
    private final TokenText text;          // may be null: ids only, no stop strings
    private final int eos, limit;
    private final GenerationListener listener;
    private final int hold;                // chars held back: a stop string's length − 1
    private int[] out;
    private int count;
    private FinishReason finish = FinishReason.LENGTH;
    private String finalText;
    private int emitted;                   // chars of the text already handed to the listener
    private boolean done, ended;

    /**
     * @param text         the tokenizer, or null
     * @param eos          the end-of-sequence token id
     * @param contextLimit the longest sequence (prompt and continuation)
     * @param listener     gets every token and text delta; may be null
     * @throws IllegalArgumentException for stop strings without a tokenizer
     */
    public Continuation(SamplingParams params, TokenText text, int eos, int contextLimit, GenerationListener listener) {
        if (!params.stop().isEmpty() && text == null) {
            throw new IllegalArgumentException("stop strings need a tokenizer");
        }
        this.params = params;
        this.text = text;
        this.eos = eos;
        this.limit = contextLimit;
        this.listener = listener;
        this.hold = Math.max(0, params.longestStop() - 1);
        this.out = new int[Math.max(1, Math.min(params.maxTokens(), 1024))];
        this.finalText = text == null ? null : "";
        this.done = params.maxTokens() == 0;
    }

    /**
     * Takes the next token, chosen after {@code position} tokens of the sequence were consumed (the prompt
     * and every earlier accepted token but the newest). Returns true when the generation goes on, so the token
     * is to be fed; false when it ended here.
     *
     * @throws IllegalStateException after the generation ended
     */
    public boolean accept(int token, int position) {
        if (done) {
            throw new IllegalStateException("the generation has ended");
        }
        if (token == eos && !params.ignoreEos()) {
            finish = FinishReason.EOS;
            done = true;
            return false;
        }
        if (count == out.length) {
            out = Arrays.copyOf(out, Math.min(params.maxTokens(), out.length * 2));
        }
        out[count++] = token;
        String delta = null;
        if (text != null) {
            String full = text.decode(Arrays.copyOf(out, count));
            int cut = firstStop(full, Math.max(0, emitted - hold));
            if (cut >= 0) {
                finalText = full.substring(0, cut);
                notify(token, finalText.substring(Math.min(emitted, cut)));
                emitted = finalText.length();
                finish = FinishReason.STOP;
                done = true;
                return false;
            }
            finalText = full;
            // hold back an incomplete character and anything that may begin a stop string
            int safe = full.endsWith("\uFFFD") ? full.lastIndexOf('\uFFFD') : full.length();
            safe = Math.max(emitted, Math.min(safe, full.length() - hold));
            delta = full.substring(emitted, safe);
            emitted = safe;
        }
        notify(token, delta);
        if (count == params.maxTokens() || position + 1 > limit) {
            done = true;
        }
        return !done;
    }

    /** True once the generation ended (at once for {@code max_tokens} 0). */
    public boolean done() {
        return done;
    }

    /** Hands the held-back text to the listener (once, after the end). */
    public void end() {
        if (!ended) {
            ended = true;
            done = true;
            if (text != null && emitted < finalText.length()) {
                notify(-1, finalText.substring(emitted));
                emitted = finalText.length();
            }
        }
    }

    /** Generated ids (without a final end-of-sequence token). */
    public int[] tokens() {
        return Arrays.copyOf(out, count);
    }

    /** Tokens generated so far. */
    public int count() {
        return count;
    }

    /** The text so far, cut before a stop string; null without a tokenizer. */
    public String text() {
        return finalText;
    }

    public FinishReason finish() {
        return finish;
    }

    private void notify(int token, String delta) {
        if (listener != null) {
            listener.onToken(token, delta);
        }
    }

    /** Index of the earliest stop string in {@code s} found at or after {@code from}, or −1. */
    private int firstStop(String s, int from) {
        int best = -1;
        for (String stop : params.stop()) {
            int i = s.indexOf(stop, from);
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
            }
        }
        return best;
    }
}
