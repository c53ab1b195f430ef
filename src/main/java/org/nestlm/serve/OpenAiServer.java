package org.nestlm.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.nestlm.infer.Generation;
import org.nestlm.elastic.Budget;
import org.nestlm.elastic.ElasticModel;
import org.nestlm.elastic.MemoryModel;
import org.nestlm.elastic.SizeChoice;
import org.nestlm.infer.LanguageModel;
import org.nestlm.infer.ResidentMemory;
import org.nestlm.io.Checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
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

    private final LanguageModel lm;                // the default model (the largest unless chosen otherwise)
    private final LanguageModel full;              // the whole checkpoint: budgets are fractions of its size
    private final List<LanguageModel> models;      // every fixed model offered, largest first
    private final ElasticSizes sizes;              // interpolated and constrained sizes, or null
    private final int parallel;
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
        this(List.of(lm), host, port, parallel, maxQueue, graceSeconds);
    }

    /**
     * Serves several models (the sizes of one elastic checkpoint, {@link org.nestlm.infer.ElasticFamily}), each
     * under its own id; the first, the largest, answers requests that name none.
     */
    public OpenAiServer(List<LanguageModel> models, String host, int port, int parallel, int maxQueue, int graceSeconds)
            throws IOException {
        this(models, null, null, host, port, parallel, maxQueue, graceSeconds);
    }

    /**
     * Serves the fixed sizes of an elastic checkpoint and, through {@code sizes}, any budget in its trained range
     * and the largest size under a request's limits ({@link SizeRequest}).
     *
     * @param sizes        interpolated and constrained sizes, or null for the fixed models only
     * @param defaultModel the model answering requests that name no size; null for the first (largest)
     */
    public OpenAiServer(List<LanguageModel> models, ElasticSizes sizes, LanguageModel defaultModel, String host, int port,
                        int parallel, int maxQueue, int graceSeconds) throws IOException {
        if (models.isEmpty()) {
            throw new IllegalArgumentException("no model to serve");
        }
        this.models = List.copyOf(models);
        this.full = models.getFirst();
        this.lm = defaultModel != null ? defaultModel : full;
        this.sizes = sizes;
        this.parallel = parallel;
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
                o.put("models", models.size());
                // one mapping shared by every size: report it once
                Checkpoint ckpt = lm.engine().checkpoint();
                o.put("weight_bytes", ckpt.weightBytes());
                o.put("resident_weight_bytes", ResidentMemory.residentWeightBytes(ckpt));
                o.put("process_rss_bytes", ResidentMemory.processRss());
                sendJson(ex, 200, o);
            }
            case "/v1/models" -> {
                requireMethod(method, "GET");
                ObjectNode o = JSON.createObjectNode().put("object", "list");
                ArrayNode data = o.putArray("data");
                for (LanguageModel m : models) {
                    ObjectNode d = data.addObject().put("id", m.name()).put("object", "model").put("created", created)
                            .put("owned_by", "nestlm").put("parameters", m.engine().parameterCount());
                    if (m.budget() != null) {
                        d.put("budget", m.budget().budget()).put("parent", full.name());
                    }
                    d.put("kind", kind(m));
                }
                if (sizes != null) {
                    // every budget in this range is served too, by interpolating the router input (docs/METHOD.md §8.3)
                    ObjectNode r = o.putObject("interpolation").put("parent", full.name())
                            .put("min_budget", ElasticModel.percent(sizes.model().minTrainedFraction(), 2))
                            .put("max_budget", ElasticModel.percent(sizes.model().maxTrainedFraction(), 2))
                            .put("min_fraction", sizes.model().minTrainedFraction())
                            .put("max_fraction", sizes.model().maxTrainedFraction());
                    ArrayNode fields = r.putArray("request_fields");
                    for (String f : List.of("budget", "max_params", "max_memory", "max_latency_ms")) {
                        fields.add(f);
                    }
                    MemoryModel mm = sizes.memory();
                    r.putObject("max_memory_counts").put("dtype", mm.dtype().name().toLowerCase(java.util.Locale.ROOT))
                            .put("context", mm.context()).put("batch", mm.batch());
                }
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
        LanguageModel lm = select(body);
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
            LanguageModel answering = elastic(body, lm);
            if (req.stream()) {
                stream(ex, req, id, answering);
            } else {
                Generation g = answering.generator().generate(req.prompt(), req.params(), null);
                sendJson(ex, 200, completion(req, id, g, answering));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, "interrupted while waiting in the queue", null, "shutting_down");
        } finally {
            queue.leave(turn);
        }
    }

    /** The whole answer as one JSON object (non-streaming). */
    private ObjectNode completion(CompletionRequest req, String id, Generation g, LanguageModel lm) {
        ObjectNode o = header(id, req.chat() ? "chat.completion" : "text_completion", lm);
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
        size(o, lm);
        return o;
    }

    /** Server-sent events: one chunk per token (with the text that became final), then the finish, then [DONE]. */
    private void stream(HttpExchange ex, CompletionRequest req, String id, LanguageModel lm) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        ex.sendResponseHeaders(200, 0);
        OutputStream out = ex.getResponseBody();
        String object = req.chat() ? "chat.completion.chunk" : "text_completion";
        if (req.chat()) {
            ObjectNode first = header(id, object, lm);
            ObjectNode choice = first.putArray("choices").addObject().put("index", 0);
            choice.putObject("delta").put("role", "assistant").put("content", "");
            choice.putNull("finish_reason");
            event(out, first);
        }
        Generation g;
        try {
            g = lm.generator().generate(req.prompt(), req.params(), (token, delta) -> {
                ObjectNode c = header(id, object, lm);
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
        ObjectNode last = header(id, object, lm);
        ObjectNode choice = last.putArray("choices").addObject().put("index", 0);
        if (req.chat()) {
            choice.putObject("delta");
        } else {
            choice.put("text", "").putNull("logprobs");
        }
        choice.put("finish_reason", g.finish().openAi());
        last.putObject("usage").put("prompt_tokens", g.prompt().length).put("completion_tokens", g.tokens().length)
                .put("total_tokens", g.prompt().length + g.tokens().length);
        size(last, lm);
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

    /** Which size answered: {@code "size": {"budget", "parameters", "kind"}} (kind: full, trained, interpolated). */
    private void size(ObjectNode o, LanguageModel m) {
        o.putObject("size").put("budget", m.budget() == null ? "100%" : m.budget().budget())
                .put("parameters", m.engine().parameterCount()).put("kind", kind(m));
    }

    private String kind(LanguageModel m) {
        if (m.budget() == null) {
            return SizeChoice.Kind.FULL.label();
        }
        if (sizes != null) {
            return sizes.kindOf(m.budget()).label();
        }
        return (m.budget().trained() ? SizeChoice.Kind.TRAINED : SizeChoice.Kind.INTERPOLATED).label();
    }

    private ObjectNode header(String id, String object, LanguageModel lm) {
        return JSON.createObjectNode().put("id", id).put("object", object).put("created", System.currentTimeMillis() / 1000)
                .put("model", lm.name());
    }

    /**
     * The model a request asks for: {@code "model"} by id, or {@code "budget"} (a trained budget's text such as
     * {@code "50%"}, any budget that resolves to the same parameter target, or with {@link ElasticSizes} any budget
     * in the trained range), or limits ({@link SizeRequest}); the default model otherwise.
     */
    private LanguageModel select(JsonNode body) {
        if (body == null || !body.isObject()) {
            return lm;
        }
        LanguageModel chosen = lm;
        JsonNode model = body.get("model");
        if (model != null && !model.isNull()) {
            if (!model.isTextual()) {
                throw ApiException.badField("model", "'model' must be a string");
            }
            chosen = null;
            for (LanguageModel m : models) {
                if (m.name().equals(model.asText())) {
                    chosen = m;
                }
            }
            String prefix = full.name() + "@";
            if (chosen == null && sizes != null && model.asText().startsWith(prefix)) {
                // an interpolated size by id ("el@60%"): the same as asking for its budget
                chosen = sizes.model(sizes.resolve(new SizeRequest(model.asText().substring(prefix.length()), -1, -1, Double.NaN)).size(), models);
            }
            if (chosen == null) {
                throw new ApiException(404, "model '" + model.asText() + "' does not exist; this server serves "
                        + names(), "model", "model_not_found");
            }
        }
        SizeRequest size = SizeRequest.parse(body);
        boolean named = model != null && !model.isNull();
        if (size.budget() != null) {
            String text = size.budget();
            long fullParams = full.engine().parameterCount();
            long target;
            try {
                target = Budget.parse(text).target(fullParams);
            } catch (IllegalArgumentException e) {
                throw ApiException.badField("budget", e.getMessage());
            }
            LanguageModel byBudget = null;
            for (LanguageModel m : models) {
                boolean same = m.budget() == null ? target == fullParams
                        : m.budget().budget().equals(text) || m.budget().target() == target;
                if (same) {
                    byBudget = m;
                    break;
                }
            }
            if (byBudget == null && sizes != null) {
                byBudget = sizes.model(sizes.resolve(size).size(), models);   // interpolated: opened on first use
            }
            if (byBudget == null) {
                throw new ApiException(404, "no model for budget '" + text + "'; this server serves " + names(), "budget",
                        "model_not_found");
            }
            if (named && byBudget != chosen) {
                throw ApiException.badField("budget", "'budget' " + text + " and 'model' " + model.asText() + " name different sizes");
            }
            chosen = byBudget;
        } else if (size.constrained()) {
            String field = size.firstLimitField();
            if (sizes == null) {
                throw ApiException.badField(field, "'" + field + "' needs an elastic checkpoint; this server serves " + names());
            }
            if (named) {
                throw ApiException.badField(field, "give 'model' or limits ('max_params', 'max_memory', 'max_latency_ms'), not both");
            }
            chosen = sizes.model(sizes.resolve(size).size(), models);
        }
        return chosen;
    }

    /**
     * With {@code "elastic": true} a request accepts a smaller nested size while the server is busy: one size
     * down for every {@code parallel} requests waiting behind the running ones (never below the smallest). The
     * response's {@code model} names the size that answered.
     */
    private LanguageModel elastic(JsonNode body, LanguageModel requested) {
        JsonNode e = body.get("elastic");
        if (e == null || !e.asBoolean(false) || models.size() == 1) {
            return requested;
        }
        if (!models.contains(requested)) {
            return requested;   // an interpolated or chosen size: asked for by size, so not traded down
        }
        int waiting = Math.max(0, queue.load(capacity) - parallel);
        return models.get(elasticIndex(models.indexOf(requested), waiting, parallel, models.size()));
    }

    /** Index of the answering size: {@code requested} stepped down once per {@code parallel} waiting requests. */
    static int elasticIndex(int requested, int waiting, int parallel, int sizes) {
        int steps = waiting <= 0 ? 0 : 1 + (waiting - 1) / parallel;
        return Math.min(sizes - 1, requested + steps);
    }

    private String names() {
        StringBuilder sb = new StringBuilder();
        for (LanguageModel m : models) {
            sb.append(sb.isEmpty() ? "" : ", ").append('\'').append(m.name()).append('\'');
        }
        return sb.toString();
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
