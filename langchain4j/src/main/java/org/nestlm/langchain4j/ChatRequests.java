package org.nestlm.langchain4j;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.InvalidRequestException;
import dev.langchain4j.exception.LangChain4jException;
import dev.langchain4j.exception.UnsupportedFeatureException;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.DefaultChatRequestParameters;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import org.nestlm.api.ChatMessage;
import org.nestlm.api.Completion;
import org.nestlm.api.NestlmException;
import org.nestlm.api.Sampling;
import org.nestlm.api.TextModel;

import java.util.ArrayList;
import java.util.List;

/**
 * What the chat models share: LangChain4j's request turned into nestlm's messages and sampling, the completion
 * turned into LangChain4j's response, and nestlm's errors into LangChain4j's exceptions.
 */
final class ChatRequests {

    private ChatRequests() {
    }

    /** The request parameters a model answers with unless a request sets them: the size's id and the sampling. */
    static ChatRequestParameters defaults(TextModel model, Sampling s) {
        DefaultChatRequestParameters.Builder<?> b = DefaultChatRequestParameters.builder()
                .modelName(model.size().id())
                .temperature(s.temperature())
                .topP(s.topP())
                .maxOutputTokens(s.maxTokens())
                .stopSequences(s.stop());
        if (s.topK() > 0) {
            b.topK(s.topK());
        }
        return b.build();
    }

    /** System, user and AI text messages; anything else (tool results, images) is refused. */
    static List<ChatMessage> messages(ChatRequest request) {
        List<ChatMessage> out = new ArrayList<>();
        for (dev.langchain4j.data.message.ChatMessage m : request.messages()) {
            out.add(switch (m) {
                case SystemMessage s -> ChatMessage.system(s.text());
                case UserMessage u when u.hasSingleText() -> ChatMessage.user(u.singleText());
                case AiMessage a when !a.hasToolExecutionRequests() -> ChatMessage.assistant(a.text() == null ? "" : a.text());
                default -> throw new UnsupportedFeatureException("nestlm chats in text only: a " + m.type()
                        + " message with other content than one text is not supported");
            });
        }
        return out;
    }

    /** The request's parameters (already defaulted by the model's) as nestlm sampling. */
    static Sampling sampling(ChatRequest request, TextModel model, Sampling base) {
        ChatRequestParameters p = request.parameters();
        if (p.toolSpecifications() != null && !p.toolSpecifications().isEmpty()) {
            throw new UnsupportedFeatureException("nestlm does not call tools (toolSpecifications given)");
        }
        if (p.responseFormat() != null && p.responseFormat().type() == ResponseFormatType.JSON) {
            throw new UnsupportedFeatureException("nestlm does not constrain output to JSON (responseFormat JSON given)");
        }
        if (nonZero(p.frequencyPenalty()) || nonZero(p.presencePenalty())) {
            throw new UnsupportedFeatureException("nestlm has no frequency or presence penalty");
        }
        if (p.modelName() != null && !p.modelName().equals(model.size().id())) {
            throw new InvalidRequestException("modelName: this model is '" + model.size().id() + "', not '" + p.modelName()
                    + "'; open that size with Nestlm.model(budget) and build a chat model over it");
        }
        Sampling s = base;
        if (p.temperature() != null) {
            s = s.withTemperature(p.temperature());
        }
        if (p.topP() != null) {
            s = s.withTopP(p.topP());
        }
        if (p.topK() != null) {
            s = s.withTopK(p.topK());
        }
        if (p.maxOutputTokens() != null) {
            s = s.withMaxTokens(p.maxOutputTokens());
        }
        if (p.stopSequences() != null) {
            s = s.withStop(p.stopSequences());
        }
        return s;
    }

    private static boolean nonZero(Double d) {
        return d != null && d != 0;
    }

    static ChatResponse response(Completion c) {
        return ChatResponse.builder()
                .aiMessage(AiMessage.from(c.text() == null ? "" : c.text()))
                .modelName(c.size())
                .tokenUsage(new TokenUsage(c.promptTokens(), c.tokens().length))
                .finishReason(c.finish() == Completion.Finish.LENGTH ? FinishReason.LENGTH : FinishReason.STOP)
                .build();
    }

    /** A bad argument is the caller's request at fault; a file fault is the model's. */
    static LangChain4jException error(NestlmException e) {
        return e.field() != null ? new InvalidRequestException(e.field() + ": " + e.getMessage(), e)
                : new LangChain4jException(e.getMessage(), e);
    }
}
