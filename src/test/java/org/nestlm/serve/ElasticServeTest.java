package org.nestlm.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.infer.ElasticFamily;
import org.nestlm.io.DType;
import org.nestlm.slice.ElasticFixtures;
import org.nestlm.util.DjlRuntime;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Many-in-one serving of an elastic checkpoint on loopback: every size an id, requests by size or budget, elastic answers. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ElasticServeTest {

    static {
        DjlRuntime.configure();
    }

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static ElasticFamily family;
    static OpenAiServer server;
    static HttpClient client;

    @BeforeAll
    static void start() throws Exception {
        Path model = ElasticFixtures.write(dir.resolve("el"), DType.BF16, 3);
        family = ElasticFamily.open(model, null, 2);
        server = new OpenAiServer(family.members(), "127.0.0.1", 0, 1, 8, 5);
        client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void stop() {
        server.close();
        family.close();
    }

    static JsonNode send(String path, String body, int status) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).timeout(Duration.ofSeconds(20));
        HttpResponse<String> r = client.send(body == null ? b.GET().build()
                : b.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(status, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    @Test
    void everyTrainedBudgetIsAModel() throws Exception {
        JsonNode data = send("/v1/models", null, 200).get("data");
        assertEquals(3, data.size());
        assertEquals("el", data.get(0).get("id").asText());
        assertEquals("el@75%", data.get(1).get("id").asText());
        assertEquals("el@50%", data.get(2).get("id").asText());
        assertEquals(ElasticFixtures.subnet(1).parameterCount(ElasticFixtures.config()), data.get(2).get("parameters").asLong());
        assertTrue(data.get(0).get("parameters").asLong() > data.get(1).get("parameters").asLong());
        JsonNode health = send("/health", null, 200);
        assertEquals(3, health.get("models").asInt());
        assertTrue(health.get("resident_weight_bytes").asLong() >= 0);
        assertTrue(health.get("weight_bytes").asLong() > 0);
    }

    @Test
    void requestsPickASizeByIdOrBudget() throws Exception {
        String ids = "\"prompt\": [1, 2, 3, 4], \"max_tokens\": 5, \"ignore_eos\": true";
        assertEquals("el@75%", send("/v1/completions", "{\"model\": \"el@75%\", " + ids + "}", 200).get("model").asText());
        assertEquals("el@50%", send("/v1/completions", "{\"budget\": \"50%\", " + ids + "}", 200).get("model").asText());
        assertEquals("el@50%", send("/v1/completions", "{\"budget\": 0.5, " + ids + "}", 200).get("model").asText());
        assertEquals("el", send("/v1/completions", "{" + ids + "}", 200).get("model").asText());
        JsonNode e = send("/v1/completions", "{\"budget\": \"10%\", " + ids + "}", 404);
        assertEquals("budget", e.get("error").get("param").asText());
        send("/v1/completions", "{\"model\": \"el@10%\", " + ids + "}", 404);
        send("/v1/completions", "{\"model\": \"el@75%\", \"budget\": \"50%\", " + ids + "}", 400);
    }

    @Test
    void elasticRequestsMayBeAnsweredBySmallerSizesUnderLoad() throws Exception {
        // the policy: the size estimated to finish the request soonest, the larger on ties
        assertEquals(0, OpenAiServer.soonest(new double[] {1, 2, 3}));
        assertEquals(2, OpenAiServer.soonest(new double[] {5, 4, 3}));
        assertEquals(0, OpenAiServer.soonest(new double[] {3, 3}));
        // loopback: 6 concurrent elastic requests on batches of one; every answer names a served size
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<JsonNode>> fs = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                fs.add(pool.submit(() -> send("/v1/completions",
                        "{\"elastic\": true, \"prompt\": [1, 2, 3], \"max_tokens\": 24, \"ignore_eos\": true}", 200)));
            }
            Set<String> answered = new HashSet<>();
            for (Future<JsonNode> f : fs) {
                answered.add(f.get(30, TimeUnit.SECONDS).get("model").asText());
            }
            assertTrue(Set.of("el", "el@75%", "el@50%").containsAll(answered), answered.toString());
            // one batch per size over the one mapping, each reported by /health
            JsonNode batches = send("/health", null, 200).get("batches");
            assertEquals(3, batches.size(), batches.toString());
            for (JsonNode b : batches) {
                assertTrue(b.get("running").asInt() <= 1 && b.has("waiting") && b.has("occupancy"), b.toString());
                assertEquals(1, b.get("max_batch").asInt(), b.toString());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void anElasticRequestGoesToASmallerSizeWhenTheRequestedBatchIsFull() throws Exception {
        BatchScheduler full = server.scheduler(family.members().getFirst());
        full.holdForTest(true);   // the one place of the full size's batch stays taken
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<JsonNode> occupying = pool.submit(() -> send("/v1/completions",
                    "{\"prompt\": [1, 2, 3], \"max_tokens\": 30, \"ignore_eos\": true}", 200));
            Awaits.await(() -> full.running() == 1, "the first request is admitted");
            String answered = send("/v1/completions",
                    "{\"elastic\": true, \"prompt\": [1, 2, 3], \"max_tokens\": 8, \"ignore_eos\": true}", 200).get("model").asText();
            assertTrue(Set.of("el@75%", "el@50%").contains(answered), answered);
            full.holdForTest(false);
            assertEquals("el", occupying.get(30, TimeUnit.SECONDS).get("model").asText());
        } finally {
            full.holdForTest(false);
            pool.shutdownNow();
        }
    }
}
