package org.nestlm.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.nestlm.infer.Generation;
import org.nestlm.sizes.Budget;
import org.nestlm.sizes.ElasticModel;
import org.nestlm.sizes.MemoryModel;
import org.nestlm.sizes.SizeChoice;
import org.nestlm.infer.LanguageModel;
import org.nestlm.infer.ResidentMemory;
import org.nestlm.model.Checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An OpenAI-compatible HTTP API over one {@link LanguageModel} or the sizes of one elastic checkpoint, on the
 * JDK's {@code com.sun.net.httpserver}:
 * <ul>
 *   <li>{@code GET /health}, {@code GET /v1/models};</li>
 *   <li>{@code POST /v1/completions} ({@code prompt}: text or token ids) and {@code POST /v1/chat/completions}
 *       ({@code messages}, rendered by {@link org.nestlm.infer.ChatFormat}); with {@code "stream": true} the
 *       answer is server-sent events {@code data: {...}\n\n} … {@code data: [DONE]\n\n}.</li>
 * </ul>
 * Generation is continuously batched: each size has a {@link BatchScheduler} whose every pass runs all its
 * running requests at once (at most {@link Options#maxBatch()}); further requests wait in arrival order, also
 * while the decode state of the running ones fills {@link Options#stateMemoryBytes()}, and beyond
 * {@link Options#maxQueue()} waiting the answer is 429. Errors are JSON {@code {"error": {message, type, param,
 * code}}}: 400 for malformed JSON, a bad or unsupported field (named in {@code param}), 404 for an unknown model
 * or path, 405 for a wrong method, 503 while shutting down. Exchanges run on virtual threads, so waiting
 * requests cost no platform thread. A client that goes away frees its place at the next pass: streams notice
 * on the next write (an SSE comment is sent while nothing else is), a non-streaming answer is preceded by
 * whitespace every {@link Options#heartbeatMillis()} (valid JSON) once it takes longer than that, which fails
 * once the client is gone. {@link #close()} drains: new requests get 503, running ones get the grace period,
 * then streams end with a final event (finish_reason {@code "abort"}, an error object, {@code [DONE]}).
 */
public final class OpenAiServer implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Largest request body read (a prompt of this size is far beyond any context limit anyway). */
    private static final int MAX_BODY_BYTES = 8 << 20;

    /**
     * How the server schedules and bounds its work.
     *
     * @param maxBatch         requests in one pass of one size's batch
     * @param prefillChunk     prompt tokens fed per pass, across the requests in prefill, while others decode: a
     *                         smaller chunk stretches the decoding streams' slowest tokens less and delays the
     *                         joining request's first token more (docs/PERFORMANCE.md, "Serving")
     * @param maxQueue         requests allowed to wait beyond the running ones
     * @param graceSeconds     how long {@link #close()} lets running requests finish
     * @param stateMemoryBytes decode state (KV caches, Mamba states) all running requests may hold together
     * @param heartbeatMillis  how often a waiting client is written to, so that a closed connection is noticed
     */
    public record Options(int maxBatch, int prefillChunk, int maxQueue, int graceSeconds, long stateMemoryBytes,
                          long heartbeatMillis) {

        /** Prompt tokens per pass while other requests decode, unless set. */
        public static final int DEFAULT_PREFILL_CHUNK = 32;

        public Options {
            if (maxBatch < 1) {
                throw new IllegalArgumentException("--max-batch must be at least 1, got " + maxBatch);
            }
            if (prefillChunk < 1) {
                throw new IllegalArgumentException("--prefill-chunk must be at least 1, got " + prefillChunk);
            }
            if (maxQueue < 0) {
                throw new IllegalArgumentException("--max-queue must be ≥ 0, got " + maxQueue);
            }
            if (graceSeconds < 0) {
                throw new IllegalArgumentException("--grace must be ≥ 0, got " + graceSeconds);
            }
            if (stateMemoryBytes <= 0) {
                throw new IllegalArgumentException("--state-memory must be positive, got " + stateMemoryBytes);
            }
            if (heartbeatMillis < 1) {
                throw new IllegalArgumentException("the heartbeat must be at least 1 ms, got " + heartbeatMillis);
            }
        }

        /** Defaults: decode state up to half the heap, a heartbeat a second. */
        public static Options of(int maxBatch, int maxQueue, int graceSeconds) {
            return new Options(maxBatch, DEFAULT_PREFILL_CHUNK, maxQueue, graceSeconds, defaultStateMemory(), 1000);
        }

        /** Half of the JVM's heap limit: decode state lives in Java arrays. */
        public static long defaultStateMemory() {
            return Runtime.getRuntime().maxMemory() / 2;
        }

        /** Requests per batch unless set: four per processor, at least 8 and at most 64. */
        public static int defaultMaxBatch() {
            return Math.max(8, Math.min(64, 4 * Runtime.getRuntime().availableProcessors()));
        }
    }

    private final LanguageModel lm;                // the default model (the largest unless chosen otherwise)
    private final LanguageModel full;              // the whole checkpoint: budgets are fractions of its size
    private final List<LanguageModel> models;      // every fixed model offered, largest first
    private final ElasticSizes sizes;              // interpolated and constrained sizes, or null
    private final Options options;
    private final HttpServer http;
    private final ExecutorService executor;
    private final RequestQueue queue;
    private final int capacity;
    private final BatchScheduler.StateMemory memory;
    private final Map<LanguageModel, BatchScheduler> schedulers = new ConcurrentHashMap<>();
    private final AtomicInteger active = new AtomicInteger();   // completion exchanges in progress
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean draining;
    private final long created = System.currentTimeMillis() / 1000;

    /**
     * Binds (port 0 picks a free port) and starts serving.
     *
     * @param parallel     requests in one batch
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
        this(models, sizes, defaultModel, host, port, Options.of(parallel, maxQueue, graceSeconds));
    }

    /** As above, with every scheduling option. */
    public OpenAiServer(List<LanguageModel> models, ElasticSizes sizes, LanguageModel defaultModel, String host, int port,
                        Options options) throws IOException {
        if (models.isEmpty()) {
            throw new IllegalArgumentException("no model to serve");
        }
        this.models = List.copyOf(models);
        this.full = models.getFirst();
        this.lm = defaultModel != null ? defaultModel : full;
        this.sizes = sizes;
        this.options = options;
        this.capacity = options.maxBatch() * models.size() + options.maxQueue();
        this.queue = new RequestQueue(capacity);
        this.memory = new BatchScheduler.StateMemory(options.stateMemoryBytes());
        ServerLimits.apply();
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
        active.incrementAndGet();   // until the answer, an error too, is written: shutdown waits for it
        try (ex) {
            try {
                route(ex);
            } catch (ApiException e) {
                sendError(ex, e);
            } catch (RuntimeException e) {
                sendError(ex, new ApiException(500, "internal error: " + e, null, null));
            }
        } finally {
            active.decrementAndGet();
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
                ObjectNode o = JSON.createObjectNode().put("status", draining ? "draining" : "ok").put("model", lm.name());
                o.put("requests", queue.load());
                o.put("models", models.size());
                int running = 0, waiting = 0;
                long cancelled = 0;
                ArrayNode batches = o.putArray("batches");
                for (LanguageModel m : servedModels()) {
                    BatchScheduler b = schedulers.get(m);
                    int r = b == null ? 0 : b.running(), w = b == null ? 0 : b.waiting();
                    running += r;
                    waiting += w;
                    cancelled += b == null ? 0 : b.cancelledCount();
                    batches.addObject().put("model", m.name()).put("running", r).put("waiting", w)
                            .put("max_batch", options.maxBatch()).put("prefill_chunk", options.prefillChunk())
                            .put("occupancy", (double) r / options.maxBatch())
                            .put("peak", b == null ? 0 : b.peak()).put("pass_ms", b == null ? 0 : b.passNanos() / 1e6);
                }
                o.put("running", running).put("waiting", waiting).put("cancelled", cancelled);
                o.putObject("state_memory").put("used_bytes", memory.used()).put("limit_bytes", memory.limit());
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
                            .put("owned_by", "nestlm").put("parameters", m.engine().parameterCount())
                            .put("vocab_size", m.engine().vocabSize()).put("context_length", m.engine().contextLimit());
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
        refuseWhileDraining();
        LanguageModel lm = select(body);
        CompletionRequest req = CompletionRequest.parse(body, chat, lm);
        if (!queue.tryEnter()) {
            throw new ApiException(429, "too many requests: " + capacity + " are running or queued; retry later",
                    null, "queue_full");
        }
        try {
            // checked after taking a place: a request admitted before the drain began runs to its end (close()
            // waits for every place to be given back), one admitted after it is refused
            refuseWhileDraining();
            String id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
            LanguageModel answering = elastic(body, lm, req);
            BatchScheduler batch = scheduler(answering);
            BatchScheduler.Job job = batch.submit(req.prompt(), req.params(), req.stream());
            boolean ended = false;
            try {
                ended = req.stream() ? stream(ex, req, id, answering, job) : whole(ex, req, id, answering, job);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                if (!ended) {
                    batch.cancel(job);   // the client went away: its place is free at the next pass
                }
            }
        } finally {
            queue.leave();
        }
    }

    private void refuseWhileDraining() {
        if (draining) {
            throw new ApiException(503, "the server is shutting down", null, "shutting_down");
        }
    }

    /** The batch of {@code m}, started on first use. */
    BatchScheduler scheduler(LanguageModel m) {
        return schedulers.computeIfAbsent(m, k -> new BatchScheduler(k, options.maxBatch(), options.prefillChunk(), memory, this::pokeAll));
    }

    /** Memory was freed by one size: the others may admit now. */
    private void pokeAll() {
        for (BatchScheduler b : schedulers.values()) {
            b.poke();
        }
    }

    /** The fixed models, then interpolated ones that have a batch. */
    private List<LanguageModel> servedModels() {
        List<LanguageModel> out = new java.util.ArrayList<>(models);
        for (LanguageModel m : schedulers.keySet()) {
            if (!out.contains(m)) {
                out.add(m);
            }
        }
        return out;
    }

    /**
     * A non-streaming answer: waits for the end, writing a space (JSON allows leading whitespace) every
     * heartbeat once the first has passed, so that a client that closed its connection is noticed. Returns
     * true when the request ended (false: the client is gone).
     */
    private boolean whole(HttpExchange ex, CompletionRequest req, String id, LanguageModel lm, BatchScheduler.Job job)
            throws IOException, InterruptedException {
        OutputStream out = null;   // set once the headers are sent
        try {
            while (true) {
                BatchScheduler.Event ev = job.events.poll(options.heartbeatMillis(), TimeUnit.MILLISECONDS);
                if (ev == null) {
                    if (out == null) {
                        ex.getResponseHeaders().set("Content-Type", "application/json");
                        ex.sendResponseHeaders(200, 0);
                        out = ex.getResponseBody();
                    }
                    out.write(' ');
                    out.flush();
                    continue;
                }
                switch (ev) {
                    case BatchScheduler.Token t -> {
                    }
                    case BatchScheduler.Done d -> {
                        ObjectNode o = completion(req, id, d.generation(), lm);
                        if (out == null) {
                            sendJson(ex, 200, o);
                        } else {
                            out.write(JSON.writeValueAsBytes(o));
                            out.close();
                        }
                        return true;
                    }
                    case BatchScheduler.Failed f -> {
                        if (out == null) {
                            throw new ApiException(503, f.message(), null, f.code());
                        }
                        out.write(JSON.writeValueAsBytes(errorBody(f.message(), "server_error", null, f.code())));
                        out.close();
                        return true;
                    }
                }
            }
        } catch (IOException e) {
            return false;
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

    /**
     * Server-sent events: one chunk per token (with the text that became final), then the finish, then [DONE];
     * an SSE comment every heartbeat while nothing else is sent. Returns true when the request ended (false:
     * the client is gone).
     */
    private boolean stream(HttpExchange ex, CompletionRequest req, String id, LanguageModel lm, BatchScheduler.Job job)
            throws IOException, InterruptedException {
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        ex.sendResponseHeaders(200, 0);
        OutputStream out = ex.getResponseBody();
        String object = req.chat() ? "chat.completion.chunk" : "text_completion";
        try {
            if (req.chat()) {
                ObjectNode first = header(id, object, lm);
                ObjectNode choice = first.putArray("choices").addObject().put("index", 0);
                choice.putObject("delta").put("role", "assistant").put("content", "");
                choice.putNull("finish_reason");
                event(out, first);
            }
            while (true) {
                BatchScheduler.Event ev = job.events.poll(options.heartbeatMillis(), TimeUnit.MILLISECONDS);
                if (ev == null) {
                    out.write(": waiting\n\n".getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    continue;
                }
                switch (ev) {
                    case BatchScheduler.Token t -> {
                        ObjectNode c = header(id, object, lm);
                        ObjectNode choice = c.putArray("choices").addObject().put("index", 0);
                        String text = t.delta() == null ? "" : t.delta();
                        if (req.chat()) {
                            choice.putObject("delta").put("content", text);
                        } else {
                            choice.put("text", text).putNull("logprobs");
                        }
                        if (t.token() >= 0) {
                            choice.putArray("token_ids").add(t.token());
                        }
                        choice.putNull("finish_reason");
                        event(out, c);
                    }
                    case BatchScheduler.Done d -> {
                        event(out, last(req, id, object, lm, d.generation(), d.generation().finish().openAi()));
                        done(out);
                        return true;
                    }
                    case BatchScheduler.Failed f -> {
                        // the final event still says how it ended, and why
                        ObjectNode last = last(req, id, object, lm, f.partial(), "abort");
                        last.set("error", errorBody(f.message(), "server_error", null, f.code()).get("error"));
                        event(out, last);
                        done(out);
                        return true;
                    }
                }
            }
        } catch (IOException e) {
            return false;
        }
    }

    /** The last chunk of a stream: empty delta, the finish reason, usage and the size that answered. */
    private ObjectNode last(CompletionRequest req, String id, String object, LanguageModel lm, Generation g, String finish) {
        ObjectNode last = header(id, object, lm);
        ObjectNode choice = last.putArray("choices").addObject().put("index", 0);
        if (req.chat()) {
            choice.putObject("delta");
        } else {
            choice.put("text", "").putNull("logprobs");
        }
        choice.put("finish_reason", finish);
        last.putObject("usage").put("prompt_tokens", g.prompt().length).put("completion_tokens", g.tokens().length)
                .put("total_tokens", g.prompt().length + g.tokens().length);
        size(last, lm);
        return last;
    }

    private static void done(OutputStream out) throws IOException {
        out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
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
            if (sizes != null) {
                // resolved by the checkpoint's sizes: a fixed member, or an interpolated size opened on first use
                byBudget = sizes.model(sizes.resolve(size).size(), models);
            } else {
                for (LanguageModel m : models) {   // fixed models only: the one whose parameter target it is
                    if (m.budget() == null ? target == fullParams : m.budget().target() == target) {
                        byBudget = m;
                        break;
                    }
                }
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
     * With {@code "elastic": true} a request accepts a smaller nested size while the server is busy: when the
     * requested size's batch has no room, it goes to whichever of that size and the smaller ones is estimated to
     * finish it soonest ({@link BatchScheduler#estimateNanos}: passes to wait for a slot plus its own, times the
     * size's measured pass time). The response's {@code model} names the size that answered.
     */
    private LanguageModel elastic(JsonNode body, LanguageModel requested, CompletionRequest req) {
        JsonNode e = body.get("elastic");
        if (e == null || !e.asBoolean(false) || models.size() == 1) {
            return requested;
        }
        if (!models.contains(requested)) {
            return requested;   // an interpolated or chosen size: asked for by size, so not traded down
        }
        if (scheduler(requested).hasRoom()) {
            return requested;
        }
        int passes = BatchScheduler.passes(req.prompt().length, options.prefillChunk()) + req.params().maxTokens();
        // nanoseconds per parameter of a pass, from any size that has run one (before that: parameters alone)
        double perParam = 1;
        for (BatchScheduler b : schedulers.values()) {
            if (b.passNanos() > 0) {
                perParam = b.passNanos() / b.model().engine().parameterCount();
                break;
            }
        }
        List<LanguageModel> candidates = models.subList(models.indexOf(requested), models.size());
        double[] finish = new double[candidates.size()];
        for (int i = 0; i < finish.length; i++) {
            LanguageModel m = candidates.get(i);
            finish[i] = scheduler(m).estimateNanos(passes, perParam * m.engine().parameterCount());
        }
        return candidates.get(soonest(finish));
    }

    /** Index of the smallest estimate; the first (largest size) on ties. */
    static int soonest(double[] finishNanos) {
        int best = 0;
        for (int i = 1; i < finishNanos.length; i++) {
            if (finishNanos[i] < finishNanos[best]) {
                best = i;
            }
        }
        return best;
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

    /** {@code {"error": {message, type, param, code}}}. */
    private static ObjectNode errorBody(String message, String type, String param, String code) {
        ObjectNode o = JSON.createObjectNode();
        ObjectNode err = o.putObject("error").put("message", message).put("type", type);
        if (param == null) {
            err.putNull("param");
        } else {
            err.put("param", param);
        }
        if (code == null) {
            err.putNull("code");
        } else {
            err.put("code", code);
        }
        return o;
    }

    private static void sendError(HttpExchange ex, ApiException e) throws IOException {
        ObjectNode o = errorBody(e.getMessage(), e.type(), e.param, e.code);
        if (e.status == 503) {
            ex.getResponseHeaders().set("Connection", "close");
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

    /**
     * Drains, then stops: new requests get 503 at once (and {@code /health} says {@code draining}) while the
     * running and waiting ones get the grace period to finish; whatever still runs then ends (streams with a final
     * event: finish_reason {@code "abort"}, an error object, [DONE]); then every connection is closed, including
     * ones still sending a request, which never delay the shutdown.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        draining = true;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(options.graceSeconds());
        try {
            // every request admitted before now holds a place until it has ended: wait for them, within the grace
            // period (new ones are refused at the door and after taking a place, see complete)
            while (queue.load() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            for (BatchScheduler b : schedulers.values()) {
                b.close();   // ends what is left with a final event
            }
            // let the exchanges write their last event (bounded: a client that does not read is cut off)
            long flushBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (active.get() > 0 && System.nanoTime() < flushBy) {
                Thread.sleep(5);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            http.stop(0);
            executor.shutdownNow();
        }
    }
}
