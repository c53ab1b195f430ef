package org.nestlm.cli.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nestlm.infer.ElasticFamily;
import org.nestlm.infer.LanguageModel;
import org.nestlm.serve.OpenAiServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * {@code nestlm bench serve}: a load generator for the OpenAI-compatible server, as vLLM's serving benchmark
 * measures one. For each concurrency C, C clients each send {@code --requests} streaming completions one after
 * another (P random prompt token ids, exactly M output tokens: {@code ignore_eos}), and the aggregate output
 * tokens per second, the time to first token and the inter-token latency (gaps between token events as the
 * client receives them) are reported, p50 and p99. Without {@code --url} the server runs in this process on
 * loopback at {@code serve}'s defaults (so client and server share the machine's cores).
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Load-test the OpenAI-compatible server: aggregate tokens/s, time to first token and inter-token latency per concurrency.",
        footer = {"", "Examples:", "  nestlm bench serve --model my-model --concurrency 1,2,4,8,16",
                "  nestlm bench serve --model elastic --models elastic,elastic@50% --json",
                "  nestlm bench serve --url http://127.0.0.1:8080 --prompt-tokens 128 --tokens 128"})
public final class ServeBenchCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--model", description = "Checkpoint directory to serve in this process (on 127.0.0.1, a free port).")
    Path model;

    @Option(names = "--url", description = "A running server to load instead, e.g. http://127.0.0.1:8080.")
    String url;

    @Option(names = "--threads", defaultValue = "0", description = "Compute threads of the in-process server; 0 = one per processor (default).")
    int threads;

    @Option(names = "--max-batch", defaultValue = "0", description = "The in-process server's --max-batch; 0 = serve's default.")
    int maxBatch;

    @Option(names = "--prefill-chunk", defaultValue = "" + OpenAiServer.Options.DEFAULT_PREFILL_CHUNK,
            description = "The in-process server's --prefill-chunk (default ${DEFAULT-VALUE}).")
    int prefillChunk;

    @Option(names = "--concurrency", defaultValue = "1,2,4,8,16", split = ",",
            description = "Concurrent clients, one measurement each (default ${DEFAULT-VALUE}).")
    int[] concurrency;

    @Option(names = "--requests", defaultValue = "2", description = "Completions each client sends, one after another (default ${DEFAULT-VALUE}).")
    int requests;

    @Option(names = "--prompt-tokens", defaultValue = "64", description = "Prompt tokens per request (default ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = "--tokens", defaultValue = "64", description = "Output tokens per request (default ${DEFAULT-VALUE}).")
    int tokens;

    @Option(names = "--models", split = ",", description = "Model ids to send requests to, in turn (default: the server's default).")
    List<String> models;

    @Option(names = "--elastic", description = "Send \"elastic\": true (a smaller size may answer under load).")
    boolean elastic;

    @Option(names = "--warmup-seconds", defaultValue = "3", description = "Untimed requests first, so the JIT has compiled the "
            + "kernels and the server's paths (default ${DEFAULT-VALUE}).")
    double warmupSeconds;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    /** One completion as the client saw it. */
    record Sample(boolean ok, int tokens, double ttftMs, double[] gapsMs, String model) {
    }

    @Override
    public Integer call() throws Exception {
        if ((model == null) == (url == null)) {
            throw new IllegalArgumentException("give --model (serve it here) or --url (a running server), not both");
        }
        if (requests < 1 || promptTokens < 1 || tokens < 1 || concurrency.length == 0 || Arrays.stream(concurrency).anyMatch(c -> c < 1)) {
            throw new IllegalArgumentException("--requests, --prompt-tokens, --tokens and every --concurrency must be at least 1");
        }
        if (model == null) {
            return run(url.endsWith("/") ? url.substring(0, url.length() - 1) : url, vocab(url));
        }
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        int batch = maxBatch > 0 ? maxBatch : OpenAiServer.Options.defaultMaxBatch();
        int most = Arrays.stream(concurrency).max().getAsInt();
        try (ElasticFamily family = ElasticFamily.open(model, null, n, false)) {
            OpenAiServer server = new OpenAiServer(family.members(), null, null, "127.0.0.1", 0,
                    new OpenAiServer.Options(batch, prefillChunk, Math.max(64, most), 5, OpenAiServer.Options.defaultStateMemory(), 1000));
            try {
                LanguageModel lm = family.members().getFirst();
                if (!json) {
                    System.out.printf(Locale.ROOT, "server: %s in this process, %d threads, --max-batch %d, --prefill-chunk %d%n",
                            lm.name(), n, batch, prefillChunk);
                }
                return run("http://127.0.0.1:" + server.port(), lm.engine().vocabSize());
            } finally {
                server.close();
            }
        }
    }

    /** The vocabulary size a running server reports for its default model (prompts are random ids below it). */
    private static int vocab(String base) throws Exception {
        HttpClient c = HttpClient.newHttpClient();
        JsonNode models = JSON.readTree(c.send(HttpRequest.newBuilder(URI.create(base + "/v1/models")).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString()).body());
        JsonNode v = models.path("data").path(0).path("vocab_size");
        return v.isInt() ? v.asInt() : 2;
    }

    private int run(String base, int vocab) throws Exception {
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(pool)
                .connectTimeout(Duration.ofSeconds(10)).build();
        Random rng = new Random(0);
        // warm-up at the highest concurrency: the JIT compiles the kernels (one row and many) and the server's
        // paths before anything is timed
        long warmEnd = System.nanoTime() + (long) (warmupSeconds * 1e9);
        int most = Arrays.stream(concurrency).max().getAsInt();
        do {
            List<Future<Sample>> warm = new ArrayList<>();
            for (int k = 0; k < most; k++) {
                int[] pr = prompt(rng, vocab);
                int index = k;
                warm.add(pool.submit(() -> one(client, base, pr, index)));
            }
            for (Future<Sample> f : warm) {
                f.get();
            }
        } while (System.nanoTime() < warmEnd);
        ObjectNode out = JSON.createObjectNode().put("url", base).put("prompt_tokens", promptTokens).put("output_tokens", tokens)
                .put("requests_per_client", requests).put("elastic", elastic);
        // the server's own scheduling settings, so that a result read later says what it measured
        JsonNode batch = JSON.readTree(client.send(HttpRequest.newBuilder(URI.create(base + "/health")).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString()).body()).path("batches").path(0);
        for (String key : new String[] {"max_batch", "prefill_chunk"}) {
            if (batch.path(key).isInt()) {
                out.put(key, batch.path(key).asInt());
            }
        }
        ArrayNode rows = out.putArray("results");
        if (!json) {
            System.out.printf(Locale.ROOT, "%d prompt tokens, %d output tokens, %d requests per client%n", promptTokens, tokens, requests);
            System.out.printf(Locale.ROOT, "%11s %8s %6s %12s %10s %10s %9s %9s %s%n", "concurrency", "requests", "errors",
                    "output tok/s", "TTFT p50", "TTFT p99", "ITL p50", "ITL p99", "(ms)");
        }
        try {
            for (int c : concurrency) {
                long t0 = System.nanoTime();
                List<Future<List<Sample>>> clients = new ArrayList<>();
                for (int k = 0; k < c; k++) {
                    int[][] prompts = new int[requests][];
                    for (int r = 0; r < requests; r++) {
                        prompts[r] = prompt(rng, vocab);
                    }
                    int first = k;
                    clients.add(pool.submit(() -> {
                        List<Sample> mine = new ArrayList<>();
                        for (int r = 0; r < requests; r++) {
                            mine.add(one(client, base, prompts[r], first * requests + r));
                        }
                        return mine;
                    }));
                }
                List<Sample> all = new ArrayList<>();
                for (Future<List<Sample>> f : clients) {
                    all.addAll(f.get());
                }
                double wall = (System.nanoTime() - t0) / 1e9;
                row(rows, c, all, wall);
            }
        } finally {
            pool.shutdownNow();
        }
        if (json) {
            System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(out));
        }
        return 0;
    }

    private int[] prompt(Random rng, int vocab) {
        return rng.ints(promptTokens, 0, Math.max(1, vocab)).toArray();
    }

    private void row(ArrayNode rows, int c, List<Sample> all, double wallSeconds) {
        int errors = 0;
        long outTokens = 0;
        List<Double> ttft = new ArrayList<>(), gaps = new ArrayList<>();
        java.util.Map<String, Integer> answered = new java.util.TreeMap<>();
        for (Sample s : all) {
            if (!s.ok) {
                errors++;
                continue;
            }
            outTokens += s.tokens;
            ttft.add(s.ttftMs);
            for (double g : s.gapsMs) {
                gaps.add(g);
            }
            answered.merge(s.model, 1, Integer::sum);
        }
        double tps = outTokens / wallSeconds;
        ObjectNode r = rows.addObject().put("concurrency", c).put("requests", all.size()).put("errors", errors)
                .put("output_tokens", outTokens).put("seconds", wallSeconds).put("output_tokens_per_s", tps)
                .put("ttft_ms_p50", percentile(ttft, 50)).put("ttft_ms_p99", percentile(ttft, 99))
                .put("itl_ms_p50", percentile(gaps, 50)).put("itl_ms_p99", percentile(gaps, 99));
        ObjectNode by = r.putObject("answered_by");
        answered.forEach(by::put);
        if (!json) {
            System.out.printf(Locale.ROOT, "%11d %8d %6d %12.1f %10.1f %10.1f %9.2f %9.2f %s%n", c, all.size(), errors, tps,
                    percentile(ttft, 50), percentile(ttft, 99), percentile(gaps, 50), percentile(gaps, 99),
                    answered.size() > 1 ? answered.toString() : "");
        }
    }

    /** Nearest-rank percentile; 0 for no values. */
    static double percentile(List<Double> values, double p) {
        if (values.isEmpty()) {
            return 0;
        }
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int rank = (int) Math.ceil(p / 100 * v.length);
        return v[Math.max(0, Math.min(v.length - 1, rank - 1))];
    }

    /** One streaming completion, timed per token event. */
    private Sample one(HttpClient client, String base, int[] prompt, int index) {
        ObjectNode body = JSON.createObjectNode().put("max_tokens", tokens).put("ignore_eos", true).put("stream", true)
                .put("temperature", 0);
        ArrayNode p = body.putArray("prompt");
        for (int id : prompt) {
            p.add(id);
        }
        if (models != null && !models.isEmpty()) {
            body.put("model", models.get(index % models.size()));
        }
        if (elastic) {
            body.put("elastic", true);
        }
        long t0 = System.nanoTime();
        try {
            HttpResponse<Stream<String>> r = client.send(HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
                    .timeout(Duration.ofMinutes(10)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(), HttpResponse.BodyHandlers.ofLines());
            if (r.statusCode() != 200) {
                r.body().close();
                return new Sample(false, 0, 0, new double[0], null);
            }
            int count = 0;
            long first = 0, last = 0;
            List<Double> gaps = new ArrayList<>();
            boolean done = false;
            String answering = null;
            try (Stream<String> lines = r.body()) {
                for (Iterator<String> it = lines.iterator(); it.hasNext(); ) {
                    String line = it.next();
                    if (!line.startsWith("data: ")) {
                        continue;
                    }
                    String data = line.substring(6);
                    if (data.equals("[DONE]")) {
                        done = true;
                        break;
                    }
                    JsonNode ev = JSON.readTree(data);
                    answering = ev.path("model").asText(null);
                    int n = ev.path("choices").path(0).path("token_ids").size();
                    if (n == 0) {
                        continue;
                    }
                    long now = System.nanoTime();
                    if (count == 0) {
                        first = now;
                    } else {
                        gaps.add((now - last) / 1e6);
                    }
                    last = now;
                    count += n;
                }
            }
            return new Sample(done && count == tokens, count, (first - t0) / 1e6,
                    gaps.stream().mapToDouble(Double::doubleValue).toArray(), answering);
        } catch (java.io.IOException e) {
            return new Sample(false, 0, 0, new double[0], null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Sample(false, 0, 0, new double[0], null);
        }
    }
}
