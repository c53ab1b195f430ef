package org.nestlm.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.nestlm.infer.Generation;
import org.nestlm.infer.LanguageModel;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An OpenAI-compatible HTTP API over one {@link LanguageModel}, on the JDK's {@code com.sun.net.httpserver}:
 * <ul>
 *   <li>{@code GET /health}, {@code GET /v1/models};</li>
 *   <li>{@code POST /v1/completions} ({@code prompt}: text or token ids) and {@code POST /v1/chat/completions}
 *       ({@code messages}, rendered by {@link org.nestlm.infer.ChatFormat}); with {@code "stream": true} the
 *       answer is server-sent events {@code data: {...}\n\n} … {@code data: [DONE]\n\n}.</li>
 * </ul>
 * Each request gets its own decode state. At most {@code parallel} requests generate at once and at most
 * {@code maxQueue} wait; beyond that the answer is 429. Errors are JSON {@code {"error": {message, type,
 * param, code}}}: 400 for malformed JSON or a bad field (named in {@code param}), 404 for an unknown model
 * or path, 405 for a wrong method. Exchanges run on virtual threads, so waiting requests cost no platform
 * thread. {@link #close()} stops accepting and lets running generations finish (up to the grace period).
 */
public final class OpenAiServer implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Largest request body read (a prompt of this size is far beyond any context limit anyway). */
    private static final int MAX_BODY_BYTES = 8 << 20;

    private final LanguageModel lm;
    private final HttpServer http;
    private final ExecutorService executor;
    private final RequestQueue queue;
    private final int capacity;
    private final int graceSeconds;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final long created = System.currentTimeMillis() / 1000;

    /**
     * Binds (port 0 picks a free port) and starts serving.
     *
     * @param parallel     requests generating at the same time
     * @param maxQueue     further requests allowed to wait
     * @param graceSeconds how long {@link #close()} waits for running requests
     */
    public OpenAiServer(LanguageModel lm, String host, int port, int parallel, int maxQueue, int graceSeconds)
            throws IOException {
        this.lm = lm;
        this.queue = new RequestQueue(parallel, maxQueue);
        this.capacity = parallel + maxQueue;
        this.graceSeconds = graceSeconds;
        this.http = HttpServer.create(new InetSocketAddress(host, port), 64);
        this.executor = Executors.newVirtualThreadPerTaskExecutor();
        http.setExecutor(executor);
        http.createContext("/", this::handle);
        http.start();
    }

    /** The bound port. */
    public int port() {
        return http.getAddress().getPort();
    }

    public String host() {
        return http.getAddress().getHostString();
    }

    RequestQueue queue() {
        return queue;
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            try {
                route(ex);
            } catch (ApiException e) {
                sendError(ex, e);
            } catch (RuntimeException e) {
                sendError(ex, new ApiException(500, "internal error: " + e, null, null));
            }
        }
    }

    private void route(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        if (path.length() > 1 && path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        String method = ex.getRequestMethod();
        switch (path) {
            case "/health" -> {
                requireMethod(method, "GET");
                ObjectNode o = JSON.createObjectNode().put("status", closed.get() ? "stopping" : "ok").put("model", lm.name());
                o.put("requests", queue.load(capacity));
                sendJson(ex, 200, o);
            }
            case "/v1/models" -> {
                requireMethod(method, "GET");
                ObjectNode o = JSON.createObjectNode().put("object", "list");
                o.putArray("data").addObject().put("id", lm.name()).put("object", "model").put("created", created)
                        .put("owned_by", "nestlm");
                sendJson(ex, 200, o);
            }
            case "/v1/completions" -> {
                requireMethod(method, "POST");
                complete(ex, false);
            }
            case "/v1/chat/completions" -> {
                requireMethod(method, "POST");
                complete(ex, true);
            }
            default -> throw new ApiException(404, "no such endpoint: " + method + " " + path, null, "not_found");
        }
    }

    private static void requireMethod(String actual, String expected) {
        if (!actual.equals(expected)) {
            throw new ApiException(405, "use " + expected + " for this endpoint, not " + actual, null, "method_not_allowed");
        }
    }

    private void complete(HttpExchange ex, boolean chat) throws IOException {
        JsonNode body = readJson(ex);
        CompletionRequest req = CompletionRequest.parse(body, chat, lm);
        if (closed.get()) {
            throw new ApiException(503, "the server is shutting down", null, "shutting_down");
        }
        if (!queue.tryEnter()) {
            throw new ApiException(429, "too many requests: " + capacity + " are running or queued; retry later",
                    null, "queue_full");
        }
        boolean turn = false;
        try {
            queue.awaitTurn();
            turn = true;
            String id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
            if (req.stream()) {
                stream(ex, req, id);
            } else {
                Generation g = lm.generator().generate(req.prompt(), req.params(), null);
                sendJson(ex, 200, completion(req, id, g));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, "interrupted while waiting in the queue", null, "shutting_down");
        } finally {
            queue.leave(turn);
        }
    }

    /** The whole answer as one JSON object (non-streaming). */
    private ObjectNode completion(CompletionRequest req, String id, Generation g) {
        ObjectNode o = header(id, req.chat() ? "chat.completion" : "text_completion");
        ObjectNode choice = o.putArray("choices").addObject().put("index", 0);
        String text = g.text() == null ? "" : g.text();
        if (req.chat()) {
            choice.putObject("message").put("role", "assistant").put("content", text);
        } else {
            choice.put("text", text).putNull("logprobs");
        }
        ids(choice.putArray("token_ids"), g.tokens());
        choice.put("finish_reason", g.finish().openAi());
        o.putObject("usage").put("prompt_tokens", g.prompt().length).put("completion_tokens", g.tokens().length)
                .put("total_tokens", g.prompt().length + g.tokens().length);
        return o;
    }

    /** Server-sent events: one chunk per token (with the text that became final), then the finish, then [DONE]. */
    private void stream(HttpExchange ex, CompletionRequest req, String id) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        ex.sendResponseHeaders(200, 0);
        OutputStream out = ex.getResponseBody();
        String object = req.chat() ? "chat.completion.chunk" : "text_completion";
        if (req.chat()) {
            ObjectNode first = header(id, object);
            ObjectNode choice = first.putArray("choices").addObject().put("index", 0);
            choice.putObject("delta").put("role", "assistant").put("content", "");
            choice.putNull("finish_reason");
            event(out, first);
        }
        Generation g;
        try {
            g = lm.generator().generate(req.prompt(), req.params(), (token, delta) -> {
                ObjectNode c = header(id, object);
                ObjectNode choice = c.putArray("choices").addObject().put("index", 0);
                String text = delta == null ? "" : delta;
                if (req.chat()) {
                    choice.putObject("delta").put("content", text);
                } else {
                    choice.put("text", text).putNull("logprobs");
                }
                if (token >= 0) {
                    choice.putArray("token_ids").add(token);
                }
                choice.putNull("finish_reason");
                try {
                    event(out, c);
                } catch (IOException e) {
                    throw new ClientGone(e);   // stops the generation: nobody is listening
                }
            });
        } catch (ClientGone e) {
            return;
        } catch (RuntimeException e) {
            ObjectNode err = JSON.createObjectNode();
            err.putObject("error").put("message", e.getMessage()).put("type", "server_error");
            event(out, err);
            return;
        }
        ObjectNode last = header(id, object);
        ObjectNode choice = last.putArray("choices").addObject().put("index", 0);
        if (req.chat()) {
            choice.putObject("delta");
        } else {
            choice.put("text", "").putNull("logprobs");
        }
        choice.put("finish_reason", g.finish().openAi());
        last.putObject("usage").put("prompt_tokens", g.prompt().length).put("completion_tokens", g.tokens().length)
                .put("total_tokens", g.prompt().length + g.tokens().length);
        event(out, last);
        out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** Thrown from the streaming listener when writing to the client fails. */
    private static final class ClientGone extends RuntimeException {
        ClientGone(IOException cause) {
            super(cause);
        }
    }

    private ObjectNode header(String id, String object) {
        return JSON.createObjectNode().put("id", id).put("object", object).put("created", System.currentTimeMillis() / 1000)
                .put("model", lm.name());
    }

    private static void ids(ArrayNode a, int[] ids) {
        for (int id : ids) {
            a.add(id);
        }
    }

    private static void event(OutputStream out, JsonNode data) throws IOException {
        out.write(("data: " + JSON.writeValueAsString(data) + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static JsonNode readJson(HttpExchange ex) throws IOException {
        byte[] bytes;
        try (InputStream in = ex.getRequestBody()) {
            bytes = in.readNBytes(MAX_BODY_BYTES + 1);
        }
        if (bytes.length > MAX_BODY_BYTES) {
            throw new ApiException(413, "the request body is larger than " + MAX_BODY_BYTES + " bytes", null, "too_large");
        }
        if (bytes.length == 0) {
            throw ApiException.badField(null, "the request body is empty; send a JSON object");
        }
        try {
            return JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw ApiException.badField(null, "malformed JSON: " + e.getOriginalMessage());
        }
    }

    private static void sendError(HttpExchange ex, ApiException e) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        ObjectNode err = o.putObject("error").put("message", e.getMessage()).put("type", e.type());
        if (e.param == null) {
            err.putNull("param");
        } else {
            err.put("param", e.param);
        }
        if (e.code == null) {
            err.putNull("code");
        } else {
            err.put("code", e.code);
        }
        if (e.status == 429) {
            ex.getResponseHeaders().set("Retry-After", "1");
        }
        sendJson(ex, e.status, o);
    }

    private static void sendJson(HttpExchange ex, int status, JsonNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** Stops accepting connections, waits up to the grace period for running requests, then stops. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            http.stop(graceSeconds);
            executor.shutdownNow();
        }
    }
}
