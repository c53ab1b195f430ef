package org.nestlm.eval;

/**
 * Held-out language-modelling figures of one model on one text.
 *
 * @param data      what was scored ({@code wikitext2}, {@code default:test}, a file name)
 * @param nll       total negative log-likelihood of the scored tokens, nats
 * @param tokens    tokens scored
 * @param bytes     UTF-8 bytes of the text those tokens encode (prorated when capped)
 * @param words     words of that text (prorated when capped; see {@link TextEval} for the convention)
 * @param capped    true when only the first tokens were scored ({@code --max-tokens}); bytes and words are then the
 *                  text's totals times the scored share of its tokens
 */
public record TextScore(String data, double nll, long tokens, double bytes, double words, boolean capped) {

    /** Mean NLL per token, nats: the "held-out loss". */
    public double loss() {
        return nll / tokens;
    }

    public double perplexity() {
        return Math.exp(loss());
    }

    /** exp(total NLL / words): comparable across tokenizers. */
    public double wordPerplexity() {
        return Math.exp(nll / words);
    }

    /** Total NLL in bits over UTF-8 bytes: comparable across tokenizers. */
    public double bitsPerByte() {
        return nll / (Math.log(2) * bytes);
    }
}
