package org.nestlm.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.sizes.ElasticModel;
import org.nestlm.sizes.LatencyProfile;
import org.nestlm.sizes.MemoryModel;
import org.nestlm.infer.ElasticFamily;
import org.nestlm.infer.LanguageModel;
import org.nestlm.io.DType;
import org.nestlm.slice.ElasticFixtures;
import org.nestlm.util.DjlRuntime;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Requests by any budget in range or by limits, on loopback; /v1/models states the range. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SizeRequestTest {

    static {
        DjlRuntime.configure();
    }

    @TempDir
    static Path dir;
    static ElasticFamily family;
    static ElasticSizes sizes;
    static OpenAiServer server;
    static long p75, p50;

    @BeforeAll
    static void start() throws Exception {
        Path model = ElasticFixtures.write(dir.resolve("el"), DType.BF16, 3);
        family = ElasticFamily.open(model, null, 1);
        ElasticModel em = ElasticModel.open(model);
        p75 = ElasticFixtures.subnet(0).parameterCount(ElasticFixtures.config());
        p50 = ElasticFixtures.subnet(1).parameterCount(ElasticFixtures.config());
        LatencyProfile profile = new LatencyProfile(List.of(
                new LatencyProfile.Point("100%", em.fullParameters(), 1, "BF16", 2.0, 8, ""),
                new LatencyProfile.Point("75%", p75, 1, "BF16", 1.5, 8, ""),
                new LatencyProfile.Point("50%", p50, 1, "BF16", 1.0, 8, "")));
        sizes = new ElasticSizes(em, new MemoryModel(DType.BF16, 128, 1), profile, 1, t -> {
            try {
                return LanguageModel.open(model, null, 1, t.budget(), null);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, 4);
        server = new OpenAiServer(family.members(), sizes, null, "127.0.0.1", 0, 1, 8, 5);
    }

    @AfterAll
    static void stop() {
        server.close();
        sizes.close();
        family.close();
    }

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** One loopback request; asserts the status and returns the JSON body. */
    static JsonNode send(String path, String body, int status) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).timeout(Duration.ofSeconds(20));
        HttpResponse<String> r = CLIENT.send(body == null ? b.GET().build()
                : b.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(status, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    static final String IDS = "\"prompt\": [1, 2, 3, 4], \"max_tokens\": 3, \"ignore_eos\": true";

    @Test
    void modelsListTrainedSizesAndTheRange() throws Exception {
        JsonNode o = send("/v1/models", null, 200);
        assertEquals(3, o.get("data").size());
        assertEquals("trained", o.get("data").get(1).get("kind").asText());
        assertEquals("full", o.get("data").get(0).get("kind").asText());
        assertEquals("50%", o.get("interpolation").get("min_budget").asText());
        assertEquals("75%", o.get("interpolation").get("max_budget").asText());
    }

    @Test
    void anyBudgetInRangeIsServedAndNamed() throws Exception {
        JsonNode r = send("/v1/completions", "{\"budget\": \"60%\", " + IDS + "}", 200);
        assertEquals("el@60%", r.get("model").asText());
        assertEquals("interpolated", r.get("size").get("kind").asText());
        assertEquals("60%", r.get("size").get("budget").asText());
        // the same size again (by id) reuses it
        assertEquals("el@60%", send("/v1/completions", "{\"model\": \"el@60%\", " + IDS + "}", 200).get("model").asText());
        JsonNode e = send("/v1/completions", "{\"budget\": \"30%\", " + IDS + "}", 404);
        assertTrue(e.get("error").get("message").asText().contains("50% to 75%"), e.toString());
        assertEquals("trained", send("/v1/completions", "{\"budget\": \"50%\", " + IDS + "}", 200)
                .get("size").get("kind").asText());
    }

    @Test
    void limitsPickTheLargestFittingSize() throws Exception {
        JsonNode r = send("/v1/completions", "{\"max_params\": " + p75 + ", " + IDS + "}", 200);
        assertEquals(p75, r.get("size").get("parameters").asLong());
        JsonNode l = send("/v1/completions", "{\"max_latency_ms\": 1.0, " + IDS + "}", 200);
        assertEquals(p50, l.get("size").get("parameters").asLong());
        JsonNode m = send("/v1/completions", "{\"max_memory\": \"1KiB\", " + IDS + "}", 400);
        assertEquals("max_memory", m.get("error").get("param").asText());
        assertTrue(m.get("error").get("message").asText().contains("smallest, 50%"), m.toString());
        send("/v1/completions", "{\"max_params\": \"lots\", " + IDS + "}", 400);
        send("/v1/completions", "{\"budget\": \"60%\", \"max_params\": 5, " + IDS + "}", 400);
    }
}
