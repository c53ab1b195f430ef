package org.nestlm.langchain4j;

import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import org.nestlm.api.ChatMessage;
import org.nestlm.api.Completion;
import org.nestlm.api.NestlmException;
import org.nestlm.api.Sampling;

import java.util.List;

/**
 * A LangChain4j {@link StreamingChatModel} answered in process by one size of a nestlm checkpoint: text reaches
 * {@link StreamingChatResponseHandler#onPartialResponse(String)} as it becomes final (a character split over
 * tokens, or what may begin a stop string, is held back until it is whole), then the complete response with
 * token usage and finish reason. Each request generates on its own virtual thread; {@code chat} returns at once.
 * Parameters and refusals as {@link NestlmChatModel}; an invalid request reaches {@code onError}.
 */
public final class NestlmStreamingChatModel extends NestlmModelBase implements StreamingChatModel {

    private NestlmStreamingChatModel(Builder b) {
        super(b);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
        List<ChatMessage> messages;
        Sampling s;
        try {
            messages = ChatRequests.messages(request);
            s = ChatRequests.sampling(request, model, sampling);
        } catch (RuntimeException e) {
            handler.onError(e);
            return;
        }
        Thread.ofVirtual().name("nestlm-stream").start(() -> {
            Completion c;
            try {
                c = model.chat(messages, s, template, (id, text) -> {
                    if (text != null && !text.isEmpty()) {
                        handler.onPartialResponse(text);
                    }
                });
            } catch (NestlmException e) {
                handler.onError(ChatRequests.error(e));
                return;
            } catch (RuntimeException e) {
                handler.onError(e);
                return;
            }
            handler.onCompleteResponse(ChatRequests.response(c));
        });
    }

    /** Builds a {@link NestlmStreamingChatModel}; only the model is required. */
    public static final class Builder extends NestlmModelBuilder<Builder, NestlmStreamingChatModel> {
        private Builder() {
        }

        @Override
        public NestlmStreamingChatModel build() {
            return new NestlmStreamingChatModel(this);
        }
    }
}
