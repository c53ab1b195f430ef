package org.nestlm.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.infer.InferTestModels;
import org.nestlm.infer.LanguageModel;
import org.nestlm.util.DjlRuntime;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.nestlm.serve.Awaits.await;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The server's lifecycle on loopback: a client that goes away (streaming or not) frees its place; slow and
 * incomplete requests time out and never delay a shutdown; the number of connections is bounded; a shutdown
 * drains (503 for new requests, /health says so) and ends what still runs with a proper final event. This class
 * runs in a JVM of its own (surefire forks per class), so it sets the process-wide HTTP limits low first.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ServerLifecycleTest {

    static {
        DjlRuntime.configure();
        System.setProperty(ServerLimits.REQUEST_TIMEOUT_PROPERTY, "1");
        System.setProperty(ServerLimits.MAX_CONNECTIONS_PROPERTY, "8");
    }

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static LanguageModel lm;
    static HttpClient client;

    @BeforeAll
    static void open() throws Exception {
        Path model = InferTestModels.charModel(dir.resolve("tiny-life"), 41);
        lm = LanguageModel.open(model, null, 2);
        client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void close() {
        lm.close();
    }

    static OpenAiServer server(int graceSeconds) throws Exception {
        return new OpenAiServer(List.of(lm), null, null, "127.0.0.1", 0, new OpenAiServer.Options(4, OpenAiServer.Options.DEFAULT_PREFILL_CHUNK, 8, graceSeconds, 1L << 30, 20));
    }

    static HttpResponse<String> send(OpenAiServer s, String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path)).timeout(Duration.ofSeconds(30));
        b = body == null ? b.GET() : b.method(method, HttpRequest.BodyPublishers.ofString(body));
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static Socket connect(OpenAiServer s) throws Exception {
        Socket socket = new Socket("127.0.0.1", s.port());
        socket.setSoTimeout(20_000);
        return socket;
    }

    static String request(String body) {
        return "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
    }

    /** Reads until the server closes the connection; fails if it stays open for the socket's timeout. */
    static void assertClosedByServer(Socket socket, String what) throws Exception {
        InputStream in = socket.getInputStream();
        try {
            while (in.read() >= 0) {
                // whatever the server answers (a 408, or nothing): what matters is that it closes
            }
        } catch (SocketTimeoutException e) {
            fail(what + ": the connection is still open after 20 s");
        } catch (java.net.SocketException e) {
            // reset by the server: closed as well
        }
    }

    @Test
    void aNonStreamingRequestWhoseClientLeftStopsAndFreesItsPlace() throws Exception {
        OpenAiServer s = server(5);
        try {
            BatchScheduler batch = s.scheduler(lm);
            batch.holdForTest(true);   // admitted but no pass runs: it can only end by being cancelled
            try (Socket socket = connect(s)) {
                OutputStream out = socket.getOutputStream();
                out.write(request("{\"prompt\": [1, 2, 3], \"max_tokens\": 200, \"ignore_eos\": true}").getBytes(StandardCharsets.UTF_8));
                out.flush();
                await(() -> batch.running() == 1, "the request runs");
            }
            await(() -> batch.running() == 0, "the request left the batch");
            assertEquals(1, batch.cancelledCount());
            assertEquals(0, batch.completedCount(), "it never finished generating");
            batch.holdForTest(false);
            JsonNode h = JSON.readTree(send(s, "GET", "/health", null).body());
            assertEquals(1, h.get("cancelled").asInt(), h.toString());
            assertEquals(0, h.get("running").asInt(), h.toString());
        } finally {
            s.close();
        }
    }

    @Test
    void aStreamWhoseClientLeftFreesItsPlace() throws Exception {
        OpenAiServer s = server(5);
        try {
            BatchScheduler batch = s.scheduler(lm);
            batch.holdForTest(true);
            try (Socket socket = connect(s)) {
                OutputStream out = socket.getOutputStream();
                out.write(request("{\"prompt\": [1, 2, 3], \"max_tokens\": 200, \"stream\": true}").getBytes(StandardCharsets.UTF_8));
                out.flush();
                await(() -> batch.running() == 1, "the request runs");
            }
            await(() -> batch.running() == 0, "the stream left the batch");
            assertEquals(1, batch.cancelledCount());
        } finally {
            s.close();
        }
    }

    @Test
    void incompleteHeadersAndBodiesTimeOut() throws Exception {
        OpenAiServer s = server(5);
        try (Socket headers = connect(s); Socket body = connect(s)) {
            headers.getOutputStream().write("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n".getBytes(StandardCharsets.UTF_8));
            String full = request("{\"prompt\": [1, 2, 3], \"max_tokens\": 2}");
            body.getOutputStream().write(full.substring(0, full.length() - 10).getBytes(StandardCharsets.UTF_8));
            assertClosedByServer(headers, "partial headers");
            assertClosedByServer(body, "a partial body");
            assertEquals(200, send(s, "POST", "/v1/completions", "{\"prompt\": [1, 2], \"max_tokens\": 2}").statusCode());
        } finally {
            s.close();
        }
    }

    @Test
    void openConnectionsAreBounded() throws Exception {
        OpenAiServer s = server(5);
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < 12; i++) {
                sockets.add(connect(s));
            }
            // beyond the limit of 8 the server closes what it accepts
            Socket last = sockets.getLast();
            assertClosedByServer(last, "the connection beyond the limit");
            for (Socket so : sockets) {
                so.close();
            }
            sockets.clear();
            await(() -> {
                try {
                    return send(s, "GET", "/health", null).statusCode() == 200;
                } catch (Exception e) {
                    return false;
                }
            }, "the server answers again");
        } finally {
            for (Socket so : sockets) {
                so.close();
            }
            s.close();
        }
    }

    @Test
    void aSlowConnectionDoesNotDelayTheShutdown() throws Exception {
        OpenAiServer s = server(120);   // a grace period longer than this test's timeout
        try (Socket slow = connect(s)) {
            slow.getOutputStream().write("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{\"pro"
                    .getBytes(StandardCharsets.UTF_8));
            slow.getOutputStream().flush();
            Thread.sleep(50);
            s.close();   // nothing runs: returns at once (the test's timeout is shorter than the grace period)
        }
    }

    @Test
    void shutdownDrainsThenEndsRunningStreamsWithAFinalEvent() throws Exception {
        OpenAiServer s = server(1);
        BatchScheduler batch = s.scheduler(lm);
        batch.holdForTest(true);   // the stream cannot finish within the grace period
        CompletableFuture<HttpResponse<String>> stream = CompletableFuture.supplyAsync(() -> {
            try {
                return send(s, "POST", "/v1/completions", "{\"prompt\": [1, 2, 3], \"max_tokens\": 50, \"stream\": true}");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        await(() -> batch.running() == 1, "the stream runs");
        CompletableFuture<Void> closing = CompletableFuture.runAsync(s::close);
        await(() -> {
            try {
                return JSON.readTree(send(s, "GET", "/health", null).body()).get("status").asText().equals("draining");
            } catch (Exception e) {
                return false;
            }
        }, "/health says draining");
        HttpResponse<String> refused = send(s, "POST", "/v1/completions", "{\"prompt\": [1], \"max_tokens\": 2}");
        assertEquals(503, refused.statusCode(), refused.body());
        assertEquals("shutting_down", JSON.readTree(refused.body()).get("error").get("code").asText());
        closing.get(30, TimeUnit.SECONDS);
        HttpResponse<String> r = stream.get(30, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode());
        String body = r.body();
        assertTrue(body.endsWith("data: [DONE]\n\n"), body);
        List<String> events = new ArrayList<>();
        for (String block : body.split("\n\n")) {
            if (block.startsWith("data: ")) {
                events.add(block.substring(6));
            }
        }
        JsonNode last = JSON.readTree(events.get(events.size() - 2));
        assertEquals("abort", last.get("choices").get(0).get("finish_reason").asText(), last.toString());
        assertEquals("shutting_down", last.get("error").get("code").asText(), last.toString());
        assertFalse(last.get("error").get("message").asText().isEmpty());
    }

    @Test
    void unsupportedOpenAiFieldsAre400() throws Exception {
        OpenAiServer s = server(5);
        try {
            for (String f : List.of("\"n\": 2", "\"best_of\": 3", "\"logprobs\": 5", "\"echo\": true", "\"presence_penalty\": 0.5",
                    "\"logit_bias\": {\"1\": 5}", "\"response_format\": {\"type\": \"json_object\"}")) {
                HttpResponse<String> r = send(s, "POST", "/v1/completions", "{\"prompt\": [1], \"max_tokens\": 2, " + f + "}");
                assertEquals(400, r.statusCode(), f + ": " + r.body());
                String field = f.substring(1, f.indexOf('"', 1));
                assertEquals(field, JSON.readTree(r.body()).get("error").get("param").asText(), r.body());
            }
            for (String f : List.of("\"n\": 1", "\"logprobs\": null", "\"echo\": false", "\"presence_penalty\": 0")) {
                assertEquals(200, send(s, "POST", "/v1/completions", "{\"prompt\": [1], \"max_tokens\": 2, " + f + "}").statusCode(), f);
            }
        } finally {
            s.close();
        }
    }
}
