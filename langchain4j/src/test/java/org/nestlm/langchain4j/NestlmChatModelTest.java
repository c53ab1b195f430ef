package org.nestlm.langchain4j;

import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.InvalidRequestException;
import dev.langchain4j.exception.UnsupportedFeatureException;
import dev.langchain4j.memory.chat.MessageWindowChatMemory;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.SystemMessage;
import dev.langchain4j.service.TokenStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.api.ChatMessage;
import org.nestlm.api.Completion;
import org.nestlm.api.Nestlm;
import org.nestlm.api.OpenOptions;
import org.nestlm.api.Sampling;
import org.nestlm.api.SizeLimits;
import org.nestlm.api.TextModel;
import org.nestlm.infer.CharTokenizer;
import org.nestlm.io.DType;
import org.nestlm.slice.ElasticFixtures;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * LangChain4j AiServices assistants over a tiny random elastic checkpoint (the core's test fixture: random weights
 * from the project's initialiser, two trained budgets, a one-character-per-token tokenizer), answered in process by
 * a nested size chosen by limits. A random model's text is gibberish, so every answer is checked against the
 * core API's own answer to the same conversation.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NestlmChatModelTest {

    interface Assistant {
        String chat(String message);
    }

    interface BriefAssistant {
        @SystemMessage("be brief")
        String chat(String message);
    }

    interface StreamingAssistant {
        TokenStream chat(String message);
    }

    static final Sampling SAMPLING = Sampling.greedy(24);

    @TempDir
    static Path tmp;
    static Nestlm ckpt;
    static TextModel small;

    @BeforeAll
    static void open() throws Exception {
        Path dir = ElasticFixtures.write(tmp.resolve("el"), DType.BF16, 3);
        CharTokenizer.write(dir);
        ckpt = Nestlm.open(dir, OpenOptions.defaults().withThreads(2));
        long p75 = ckpt.size("75%").parameters();
        small = ckpt.model(SizeLimits.maxParams(p75 - 1));   // the largest size below the 75 % budget
    }

    @AfterAll
    static void close() {
        ckpt.close();
    }

    static NestlmChatModel chatModel() {
        return NestlmChatModel.builder().model(small).sampling(SAMPLING).build();
    }

    @Test
    void anAiServicesAssistantAnswersAsTheCoreApiDoes() throws Exception {
        assertTrue(small.size().parameters() < ckpt.size("75%").parameters());
        Assistant a = AiServices.create(Assistant.class, chatModel());
        String answer = a.chat("hello there");
        assertEquals(small.chat(List.of(ChatMessage.user("hello there")), SAMPLING).text(), answer);

        BriefAssistant b = AiServices.create(BriefAssistant.class, chatModel());
        assertEquals(small.chat(List.of(ChatMessage.system("be brief"), ChatMessage.user("hi")), SAMPLING).text(), b.chat("hi"));
    }

    @Test
    void chatMemoryCarriesEarlierTurnsIntoThePrompt() throws Exception {
        Assistant a = AiServices.builder(Assistant.class).chatModel(chatModel())
                .chatMemory(MessageWindowChatMemory.withMaxMessages(10)).build();
        String first = a.chat("one");
        String second = a.chat("two");
        Completion expected = small.chat(List.of(ChatMessage.user("one"), ChatMessage.assistant(first), ChatMessage.user("two")),
                SAMPLING);
        assertEquals(expected.text(), second);
    }

    @Test
    void responsesCarryUsageFinishReasonAndTheSize() throws Exception {
        ChatResponse r = chatModel().chat(ChatRequest.builder().messages(UserMessage.from("abc")).maxOutputTokens(5).build());
        Completion c = small.chat(List.of(ChatMessage.user("abc")), SAMPLING.withMaxTokens(5));
        assertEquals(c.text(), r.aiMessage().text());
        assertEquals(c.promptTokens(), r.tokenUsage().inputTokenCount());
        assertEquals(c.tokens().length, r.tokenUsage().outputTokenCount());
        assertEquals(c.finish() == Completion.Finish.LENGTH ? FinishReason.LENGTH : FinishReason.STOP, r.finishReason());
        assertEquals(small.size().id(), r.modelName());
        assertEquals(small.size().id(), chatModel().defaultRequestParameters().modelName());
    }

    @Test
    void aStreamingAssistantStreamsTheSameAnswer() throws Exception {
        NestlmStreamingChatModel model = NestlmStreamingChatModel.builder().model(small).sampling(SAMPLING).build();
        StreamingAssistant a = AiServices.create(StreamingAssistant.class, model);
        StringBuilder parts = new StringBuilder();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        a.chat("hello there").onPartialResponse(parts::append).onCompleteResponse(done::complete)
                .onError(done::completeExceptionally).start();
        ChatResponse r = done.get(60, TimeUnit.SECONDS);
        String expected = small.chat(List.of(ChatMessage.user("hello there")), SAMPLING).text();
        assertEquals(expected, r.aiMessage().text());
        assertEquals(expected, parts.toString());
        assertFalse(expected.isEmpty());
    }

    @Test
    void badAndUnsupportedRequestsGetLangChain4jExceptions() throws Exception {
        NestlmChatModel m = chatModel();
        InvalidRequestException bad = assertThrows(InvalidRequestException.class,
                () -> m.chat(ChatRequest.builder().messages(UserMessage.from("x")).temperature(-1.0).build()));
        assertTrue(bad.getMessage().startsWith("temperature"), bad.getMessage());
        ToolSpecification tool = ToolSpecification.builder().name("clock").description("the time").build();
        assertThrows(UnsupportedFeatureException.class,
                () -> m.chat(ChatRequest.builder().messages(UserMessage.from("x")).toolSpecifications(tool).build()));
        assertThrows(InvalidRequestException.class,
                () -> m.chat(ChatRequest.builder().messages(UserMessage.from("x")).modelName("other").build()));

        StreamResult error = new StreamResult();
        NestlmStreamingChatModel.builder().model(small).build().chat(
                ChatRequest.builder().messages(UserMessage.from("x")).topP(0.0).build(), error);
        assertTrue(error.error() instanceof InvalidRequestException, String.valueOf(error.error()));
    }
}
