package org.nestlm.langchain4j;

import org.nestlm.api.ChatTemplate;
import org.nestlm.api.Sampling;
import org.nestlm.api.TextModel;

import java.util.Objects;

/**
 * What {@link NestlmChatModel} and {@link NestlmStreamingChatModel} are built from: the size that answers, the
 * sampling used where a request sets nothing, and the chat template. Only the model is required.
 *
 * @param <B> the concrete builder
 * @param <M> the model it builds
 */
public abstract class NestlmModelBuilder<B extends NestlmModelBuilder<B, M>, M> {

    TextModel model;
    Sampling sampling = Sampling.defaults();
    ChatTemplate template = ChatTemplate.PLAIN;

    NestlmModelBuilder() {
    }

    /** The size that answers: {@code ckpt.model()}, {@code ckpt.model("50%")}, {@code ckpt.model(limits)}. */
    public B model(TextModel model) {
        this.model = model;
        return self();
    }

    /** Sampling used where a request sets nothing (default: greedy, 64 tokens). */
    public B sampling(Sampling sampling) {
        this.sampling = Objects.requireNonNull(sampling);
        return self();
    }

    /** How the conversation is rendered (default {@link ChatTemplate#PLAIN}). */
    public B template(ChatTemplate template) {
        this.template = Objects.requireNonNull(template);
        return self();
    }

    public abstract M build();

    TextModel requireModel() {
        return Objects.requireNonNull(model, "model: give a TextModel (Nestlm.model(...))");
    }

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }
}
