package org.nestlm.langchain4j;

import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import org.nestlm.api.NestlmException;


/**
 * A LangChain4j {@link ChatModel} answered in process by one size of a nestlm checkpoint, on the pure-Java engine.
 * The size is chosen with the core API, by budget or by limits:
 * <pre>{@code
 * Nestlm ckpt = Nestlm.open(Path.of("my-elastic"));
 * ChatModel chat = NestlmChatModel.builder()
 *         .model(ckpt.model(SizeLimits.maxMemory(2L << 30)))   // or ckpt.model("50%")
 *         .sampling(Sampling.defaults().withMaxTokens(128))
 *         .build();
 * Assistant a = AiServices.create(Assistant.class, chat);
 * }</pre>
 * Request parameters (temperature, topP, topK, maxOutputTokens, stopSequences) override the builder's sampling;
 * tools, JSON response formats and penalties are refused with {@link dev.langchain4j.exception.UnsupportedFeatureException},
 * bad values with {@link dev.langchain4j.exception.InvalidRequestException} naming the parameter. Thread-safe; the
 * checkpoint stays the caller's to close.
 */
public final class NestlmChatModel extends NestlmModelBase implements ChatModel {

    private NestlmChatModel(Builder b) {
        super(b);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public ChatResponse doChat(ChatRequest request) {
        try {
            return ChatRequests.response(model.chat(ChatRequests.messages(request),
                    ChatRequests.sampling(request, model, sampling), template, null));
        } catch (NestlmException e) {
            throw ChatRequests.error(e);
        }
    }

    /** Builds a {@link NestlmChatModel}; only the model is required. */
    public static final class Builder extends NestlmModelBuilder<Builder, NestlmChatModel> {
        private Builder() {
        }

        @Override
        public NestlmChatModel build() {
            return new NestlmChatModel(this);
        }
    }
}
