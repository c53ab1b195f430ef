package org.nestlm.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.infer.Generator;
import org.nestlm.infer.InferTestModels;
import org.nestlm.infer.LanguageModel;
import org.nestlm.infer.SamplingParams;
import org.nestlm.util.DjlRuntime;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The OpenAI-compatible server on loopback (127.0.0.1 only, a free port): every endpoint, streaming,
 * every error (400 naming the field, 404, 405, 429, context limit), 8 concurrent requests and a graceful
 * shutdown. All waits are bounded.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OpenAiServerTest {

    static {
        DjlRuntime.configure();
    }

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static LanguageModel lm;
    static OpenAiServer server;
    static HttpClient client;

    @BeforeAll
    static void start() throws Exception {
        Path model = InferTestModels.charModel(dir.resolve("tiny-chat"), 9);
        lm = LanguageModel.open(model, null, 2);
        server = new OpenAiServer(lm, "127.0.0.1", 0, 2, 8, 5);
        client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void stop() {
        server.close();
        lm.close();
    }

    record Reply(int status, String body) {
        JsonNode json() throws Exception {
            return JSON.readTree(body);
        }
    }

    static Reply get(String path) throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(20)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.body());
    }

    static Reply post(String path, String body) throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.body());
    }

    static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    /** The {@code data:} payloads of a server-sent-event body (comments skipped, as SSE clients do). */
    static List<String> events(String body) {
        List<String> out = new ArrayList<>();
        for (String block : body.split("\n\n")) {
            if (block.startsWith(":")) {
                continue;   // an SSE comment: the keep-alive sent while a request waits
            }
            if (!block.isBlank()) {
                assertTrue(block.startsWith("data: "), block);
                out.add(block.substring("data: ".length()));
            }
        }
        return out;
    }

    static void assertError(Reply r, int status, String param) throws Exception {
        assertEquals(status, r.status(), r.body());
        JsonNode err = r.json().get("error");
        assertTrue(err != null && err.get("message").asText().length() > 0, r.body());
        if (param != null) {
            assertEquals(param, err.get("param").asText(), r.body());
        }
    }

    @Test
    void bindsLoopbackByDefaultAndReportsHealthAndModels() throws Exception {
        assertEquals("127.0.0.1", server.host());
        Reply h = get("/health");
        assertEquals(200, h.status());
        assertEquals("ok", h.json().get("status").asText());
        Reply m = get("/v1/models");
        assertEquals(200, m.status());
        assertEquals("tiny-chat", m.json().get("data").get(0).get("id").asText());
        assertEquals("list", m.json().get("object").asText());
    }

    @Test
    void completionWithTokenIdsIsTheGreedyContinuation() throws Exception {
        Reply r = post("/v1/completions", "{\"model\": \"tiny-chat\", \"prompt\": [1, 2, 3], \"max_tokens\": 6, "
                + "\"temperature\": 0, \"ignore_eos\": true}");
        assertEquals(200, r.status(), r.body());
        JsonNode j = r.json();
        int[] expected = new Generator(lm.engine(), lm.text()).generate(new int[] {1, 2, 3}, SamplingParams.greedy(6), null).tokens();
        JsonNode ids = j.get("choices").get(0).get("token_ids");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], ids.get(i).asInt());
        }
        assertEquals(lm.text().decode(expected), j.get("choices").get(0).get("text").asText());
        assertEquals("length", j.get("choices").get(0).get("finish_reason").asText());
        assertEquals(3, j.get("usage").get("prompt_tokens").asInt());
        assertEquals(6, j.get("usage").get("completion_tokens").asInt());
        assertEquals("text_completion", j.get("object").asText());
    }

    @Test
    void textCompletionStreamsTheSameText() throws Exception {
        String req = "\"prompt\": \"hello\", \"max_tokens\": 8, \"temperature\": 0, \"ignore_eos\": true";
        Reply whole = post("/v1/completions", "{" + req + "}");
        Reply streamed = post("/v1/completions", "{" + req + ", \"stream\": true}");
        assertEquals(200, streamed.status());
        List<String> ev = events(streamed.body());
        assertEquals("[DONE]", ev.getLast());
        StringBuilder text = new StringBuilder();
        for (String e : ev.subList(0, ev.size() - 1)) {
            text.append(JSON.readTree(e).get("choices").get(0).get("text").asText());
        }
        assertEquals(whole.json().get("choices").get(0).get("text").asText(), text.toString());
        JsonNode last = JSON.readTree(ev.get(ev.size() - 2));
        assertEquals("length", last.get("choices").get(0).get("finish_reason").asText());
    }

    @Test
    void chatCompletionWholeAndStreamed() throws Exception {
        String req = "\"messages\": [{\"role\": \"system\", \"content\": \"be brief\"}, {\"role\": \"user\", \"content\": \"hi\"}],"
                + " \"max_tokens\": 6, \"temperature\": 0, \"ignore_eos\": true";
        Reply whole = post("/v1/chat/completions", "{" + req + "}");
        assertEquals(200, whole.status(), whole.body());
        JsonNode msg = whole.json().get("choices").get(0).get("message");
        assertEquals("assistant", msg.get("role").asText());
        assertEquals("chat.completion", whole.json().get("object").asText());

        Reply streamed = post("/v1/chat/completions", "{" + req + ", \"stream\": true}");
        List<String> ev = events(streamed.body());
        assertEquals("[DONE]", ev.getLast());
        JsonNode first = JSON.readTree(ev.getFirst());
        assertEquals("assistant", first.get("choices").get(0).get("delta").get("role").asText());
        assertEquals("chat.completion.chunk", first.get("object").asText());
        StringBuilder text = new StringBuilder();
        for (String e : ev.subList(0, ev.size() - 1)) {
            JsonNode c = JSON.readTree(e).get("choices").get(0).get("delta").get("content");
            if (c != null) {
                text.append(c.asText());
            }
        }
        assertEquals(msg.get("content").asText(), text.toString());
    }

    @Test
    void badRequestsAreRefusedNamingTheField() throws Exception {
        assertError(post("/v1/completions", "{\"prompt\": [1, 2"), 400, null);
        assertError(post("/v1/completions", ""), 400, null);
        assertError(post("/v1/completions", "[1]"), 400, null);
        assertError(post("/v1/completions", "{\"max_tokens\": 3}"), 400, "prompt");
        assertError(post("/v1/completions", "{\"prompt\": [1], \"max_tokens\": \"many\"}"), 400, "max_tokens");
        assertError(post("/v1/completions", "{\"prompt\": [1], \"max_tokens\": -1}"), 400, "max_tokens");
        assertError(post("/v1/completions", "{\"prompt\": [1], \"temperature\": -0.5}"), 400, "temperature");
        assertError(post("/v1/completions", "{\"prompt\": [1], \"top_p\": 1.5}"), 400, "top_p");
        assertError(post("/v1/completions", "{\"prompt\": [1], \"stream\": \"yes\"}"), 400, "stream");
        assertError(post("/v1/completions", "{\"prompt\": [1], \"stop\": 5}"), 400, "stop");
        assertError(post("/v1/completions", "{\"prompt\": [1, 100000]}"), 400, "prompt");
        assertError(post("/v1/completions", "{\"prompt\": {\"a\": 1}}"), 400, "prompt");
        assertError(post("/v1/chat/completions", "{\"messages\": []}"), 400, "messages");
        assertError(post("/v1/chat/completions", "{\"messages\": [{\"role\": \"robot\", \"content\": \"x\"}]}"), 400,
                "messages[0].role");
        assertError(post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\"}]}"), 400, "messages[0]");
    }

    @Test
    void promptBeyondTheContextLimitIs400() throws Exception {
        int limit = lm.engine().contextLimit();
        StringBuilder ids = new StringBuilder("[");
        for (int i = 0; i <= limit; i++) {
            ids.append(i == 0 ? "" : ",").append(1);
        }
        Reply r = post("/v1/completions", "{\"prompt\": " + ids + "]}");
        assertError(r, 400, "prompt");
        assertEquals("context_length_exceeded", r.json().get("error").get("code").asText());
    }

    @Test
    void unknownModelPathAndMethod() throws Exception {
        Reply r = post("/v1/completions", "{\"model\": \"gpt-17\", \"prompt\": [1]}");
        assertError(r, 404, "model");
        assertEquals("model_not_found", r.json().get("error").get("code").asText());
        assertError(get("/v1/nothing"), 404, null);
        assertError(get("/v1/completions"), 405, null);
        assertError(post("/health", "{}"), 405, null);
    }

    @Test
    void fullQueueIs429() throws Exception {
        int taken = server.queue().fillForTest();
        try {
            Reply r = post("/v1/completions", "{\"prompt\": [1], \"max_tokens\": 1}");
            assertError(r, 429, null);
        } finally {
            server.queue().releaseForTest(taken);
        }
        assertEquals(200, post("/v1/completions", "{\"prompt\": [1], \"max_tokens\": 1}").status());
    }

    @Test
    void eightConcurrentRequestsEachGetTheirOwnState() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Reply>> replies = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                int first = 1 + i % 4;   // four distinct prompts, each sent twice
                replies.add(pool.submit(() -> post("/v1/completions", "{\"prompt\": [" + first + ", 5, 6], \"max_tokens\": 10,"
                        + " \"temperature\": 0, \"ignore_eos\": true" + (first % 2 == 0 ? ", \"stream\": true" : "") + "}")));
            }
            for (int i = 0; i < 8; i++) {
                Reply r = replies.get(i).get(30, TimeUnit.SECONDS);
                assertEquals(200, r.status(), r.body());
                int first = 1 + i % 4;
                int[] expected = new Generator(lm.engine(), lm.text())
                        .generate(new int[] {first, 5, 6}, SamplingParams.greedy(10), null).tokens();
                String text = lm.text().decode(expected);
                if (first % 2 == 0) {
                    StringBuilder b = new StringBuilder();
                    List<String> ev = events(r.body());
                    for (String e : ev.subList(0, ev.size() - 1)) {
                        b.append(JSON.readTree(e).get("choices").get(0).get("text").asText());
                    }
                    assertEquals(text, b.toString(), "request " + i);
                } else {
                    assertEquals(text, r.json().get("choices").get(0).get("text").asText(), "request " + i);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void gracefulShutdownFinishesRunningRequestsThenRefuses() throws Exception {
        try (LanguageModel other = LanguageModel.open(dir.resolve("tiny-chat"), null, 1)) {
            OpenAiServer s = new OpenAiServer(other, "127.0.0.1", 0, 1, 2, 10);
            int port = s.port();
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                Future<HttpResponse<String>> running = pool.submit(() -> client.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/completions"))
                                .timeout(Duration.ofSeconds(30))
                                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": [1], \"max_tokens\": 400,"
                                        + " \"ignore_eos\": true, \"stream\": true}")).build(),
                        HttpResponse.BodyHandlers.ofString()));
                // wait until the request is admitted, then shut down while it runs
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (s.queue().load() == 0 && !running.isDone() && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
                s.close();
                HttpResponse<String> r = running.get(30, TimeUnit.SECONDS);
                assertEquals(200, r.statusCode());
                assertTrue(r.body().endsWith("data: [DONE]\n\n"), "the running request completes");
                assertThrows(Exception.class, () -> client.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()));
                assertFalse(r.body().contains("\"error\""));
            } finally {
                pool.shutdownNow();
                s.close();
            }
        }
    }
}
