package org.nestlm.api;

/**
 * The outcome of one generation.
 *
 * @param text             the generated text, cut before a stop string; null for a model without a tokenizer
 * @param tokens           generated token ids (without a final end-of-sequence token)
 * @param promptTokens     tokens of the prompt as the model saw it (the rendered chat for {@link TextModel#chat})
 * @param finish           why it ended
 * @param size             the id of the size that answered ({@link Size#id()})
 * @param prefillPerSecond prompt tokens per second
 * @param decodePerSecond  generated tokens per second after the first
 */
public record Completion(String text, int[] tokens, int promptTokens, Finish finish, String size,
                         double prefillPerSecond, double decodePerSecond) {

    /** Why a generation ended, with the OpenAI {@code finish_reason}. */
    public enum Finish {
        /** max tokens or the context limit reached. */
        LENGTH("length"),
        /** a stop string was produced. */
        STOP("stop"),
        /** the end-of-sequence token was produced. */
        EOS("stop");

        private final String openAi;

        Finish(String openAi) {
            this.openAi = openAi;
        }

        /** The OpenAI {@code finish_reason}: {@code length} or {@code stop}. */
        public String openAi() {
            return openAi;
        }
    }
}
