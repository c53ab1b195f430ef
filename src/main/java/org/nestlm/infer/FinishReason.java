package org.nestlm.infer;

/** Why a generation ended, with the OpenAI {@code finish_reason} string. */
public enum FinishReason {
    /** max_tokens reached, or the context limit. */
    LENGTH("length"),
    /** a stop string was produced. */
    STOP("stop"),
    /** the end-of-sequence token was produced (OpenAI reports this as "stop" too). */
    EOS("stop");

    private final String openAi;

    FinishReason(String openAi) {
        this.openAi = openAi;
    }

    public String openAi() {
        return openAi;
    }
}
