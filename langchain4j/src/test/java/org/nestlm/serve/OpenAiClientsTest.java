package org.nestlm.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.InvalidRequestException;
import dev.langchain4j.exception.ModelNotFoundException;
import dev.langchain4j.exception.RateLimitException;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import org.nestlm.langchain4j.StreamResult;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiChatResponseMetadata;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.model.output.FinishReason;
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
import org.nestlm.sizes.ElasticModel;
import org.nestlm.sizes.MemoryModel;
import org.nestlm.infer.CharTokenizer;
import org.nestlm.infer.ElasticFamily;
import org.nestlm.infer.LanguageModel;
import org.nestlm.io.DType;
import org.nestlm.slice.ElasticFixtures;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * LangChain4j's OpenAI clients against the OpenAI-compatible server, in process on 127.0.0.1 (a free port), serving
 * the sizes of the core's elastic test checkpoint: plain and streamed answers equal the library API's answers to
 * the same conversation, the size that answered is named in the response, and the server's 400, 404 and 429 reach
 * the client as LangChain4j's exceptions. Every client has retries off and a timeout.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OpenAiClientsTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration TIMEOUT = Duration.ofSeconds(30);
    static final int MAX_TOKENS = 12;

    @TempDir
    static Path tmp;
    static Path dir;
    static ElasticFamily family;
    static ElasticSizes sizes;
    static OpenAiServer server;
    static Nestlm api;

    @BeforeAll
    static void start() throws Exception {
        dir = ElasticFixtures.write(tmp.resolve("el"), DType.BF16, 3);
        CharTokenizer.write(dir);
        family = ElasticFamily.open(dir, null, 2);
        // as 'nestlm serve' does: any budget in the trained range, opened on first use
        sizes = new ElasticSizes(ElasticModel.open(dir), new MemoryModel(DType.BF16, 4096, 1), null, 2, t -> {
            try {
                return LanguageModel.open(dir, null, 2, t.budget(), null);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, 4);
        server = new OpenAiServer(family.members(), sizes, null, "127.0.0.1", 0, 1, 4, 5);
        api = Nestlm.open(dir, OpenOptions.defaults().withThreads(2));
    }

    @AfterAll
    static void stop() {
        server.close();
        sizes.close();
        family.close();
        api.close();
    }

    static String baseUrl() {
        return "http://127.0.0.1:" + server.port() + "/v1";
    }

    static OpenAiChatModel client(String model) {
        return OpenAiChatModel.builder().baseUrl(baseUrl()).apiKey("unused").modelName(model).temperature(0.0)
                .maxTokens(MAX_TOKENS).maxRetries(0).timeout(TIMEOUT).build();
    }

    static OpenAiStreamingChatModel streamingClient(String model) {
        return OpenAiStreamingChatModel.builder().baseUrl(baseUrl()).apiKey("unused").modelName(model).temperature(0.0)
                .maxTokens(MAX_TOKENS).timeout(TIMEOUT).build();
    }

    /** What the library answers to one user message at {@code budget}, greedily. */
    static Completion expected(String budget, String message) throws Exception {
        return api.model(budget).chat(List.of(ChatMessage.user(message)), Sampling.greedy(MAX_TOKENS));
    }

    /** The {@code "size"} object of the response body. */
    static JsonNode size(ChatResponse r) throws Exception {
        return JSON.readTree(((OpenAiChatResponseMetadata) r.metadata()).rawHttpResponse().body()).get("size");
    }

    @Test
    void answersAtTheNamedTrainedSize() throws Exception {
        ChatResponse r = client("el@50%").chat(ChatRequest.builder().messages(UserMessage.from("hello there")).build());
        Completion c = expected("50%", "hello there");
        assertEquals(c.text(), r.aiMessage().text());
        assertEquals("el@50%", r.modelName());
        assertEquals("50%", size(r).get("budget").asText());
        assertEquals("trained", size(r).get("kind").asText());
        assertEquals(api.size("50%").parameters(), size(r).get("parameters").asLong());
        assertEquals(c.promptTokens(), r.tokenUsage().inputTokenCount());
        assertEquals(c.tokens().length, r.tokenUsage().outputTokenCount());
        assertEquals(c.finish() == Completion.Finish.LENGTH ? FinishReason.LENGTH : FinishReason.STOP, r.finishReason());
    }

    @Test
    void answersAtAnInterpolatedSizeByItsId() throws Exception {
        ChatResponse r = client("el@60%").chat(ChatRequest.builder().messages(UserMessage.from("abc")).build());
        assertEquals(expected("60%", "abc").text(), r.aiMessage().text());
        assertEquals("el@60%", r.modelName());
        assertEquals("interpolated", size(r).get("kind").asText());
        assertEquals(api.size("60%").parameters(), size(r).get("parameters").asLong());
    }

    @Test
    void streamsTheSameAnswerWithUsage() throws Exception {
        StreamResult stream = new StreamResult();
        streamingClient("el").chat(ChatRequest.builder().messages(UserMessage.from("hello there")).build(), stream);
        ChatResponse r = stream.response();
        Completion c = expected("100%", "hello there");
        assertFalse(c.text().isEmpty());
        assertEquals(c.text(), stream.parts());
        assertEquals(c.text(), r.aiMessage().text());
        assertEquals("el", r.modelName());
        assertEquals(c.promptTokens(), r.tokenUsage().inputTokenCount());
        assertEquals(c.tokens().length, r.tokenUsage().outputTokenCount());
    }

    @Test
    void aBadFieldIsAnInvalidRequestAndAnUnknownModelIsNotFound() {
        InvalidRequestException bad = assertThrows(InvalidRequestException.class,
                () -> client("el").chat(ChatRequest.builder().messages(UserMessage.from("x")).topP(2.0).build()));
        assertTrue(bad.getMessage().contains("top_p"), bad.getMessage());
        assertThrows(ModelNotFoundException.class,
                () -> client("nope").chat(ChatRequest.builder().messages(UserMessage.from("x")).build()));
        // a size outside the trained range does not exist: 404, naming the range served
        ModelNotFoundException range = assertThrows(ModelNotFoundException.class,
                () -> client("el@10%").chat(ChatRequest.builder().messages(UserMessage.from("x")).build()));
        assertTrue(range.getMessage().contains("10%") && range.getMessage().contains("50%"), range.getMessage());
    }

    @Test
    void aFullQueueIsARateLimitForBothClients() throws Exception {
        int taken = server.queue().fillForTest();
        try {
            assertThrows(RateLimitException.class,
                    () -> client("el").chat(ChatRequest.builder().messages(UserMessage.from("x")).build()));
            StreamResult error = new StreamResult();
            streamingClient("el").chat(ChatRequest.builder().messages(UserMessage.from("x")).build(), error);
            assertInstanceOf(RateLimitException.class, error.error());
        } finally {
            server.queue().releaseForTest(taken);
        }
        // the queue is free again
        assertFalse(client("el").chat(ChatRequest.builder().messages(UserMessage.from("x")).build()).aiMessage().text().isEmpty());
    }

    @Test
    void streamOptionsAreCheckedByName() throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        String ok = "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_completion_tokens\": 3, \"stream\": true, "
                + "\"stream_options\": {\"include_usage\": true}}";
        HttpResponse<String> r = http.send(post(ok), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        // the final chunk carries the usage (at most 3 tokens: a stop string may end the answer sooner)
        assertTrue(java.util.regex.Pattern.compile("\"usage\":\\{\"prompt_tokens\":\\d+,\"completion_tokens\":[123],")
                .matcher(r.body()).find(), r.body());
        for (String[] bad : new String[][] {
                {"\"stream_options\": {\"include_usage\": true}", "stream_options"},
                {"\"stream\": true, \"stream_options\": {\"include_usage\": 1}", "stream_options.include_usage"},
                {"\"stream\": true, \"stream_options\": {\"chunks\": 2}", "stream_options.chunks"},
                {"\"max_completion_tokens\": \"many\"", "max_completion_tokens"}}) {
            String body = "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], " + bad[0] + "}";
            HttpResponse<String> e = http.send(post(body), HttpResponse.BodyHandlers.ofString());
            assertEquals(400, e.statusCode(), e.body());
            assertEquals(bad[1], JSON.readTree(e.body()).get("error").get("param").asText(), e.body());
        }
    }

    static HttpRequest post(String body) {
        return HttpRequest.newBuilder(URI.create(baseUrl() + "/chat/completions")).timeout(TIMEOUT)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }
}
