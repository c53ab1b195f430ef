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
import static org.nestlm.serve.Awaits.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server's continuous batching on loopback: requests held until all have arrived run in one batch and
 * get the tokens they get alone (greedy and seeded sampling, with their own parameters and stop strings);
 * requests beyond the decode-state memory limit wait instead of failing. All waits are bounded.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ContinuousBatchingTest {

    static {
        DjlRuntime.configure();
    }

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static LanguageModel lm;
    static HttpClient client;

    @BeforeAll
    static void open() throws Exception {
        Path model = InferTestModels.charModel(dir.resolve("tiny-batch"), 31);
        lm = LanguageModel.open(model, null, 2);
        client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void close() {
        lm.close();
    }

    static OpenAiServer server(int maxBatch, long stateMemory) throws Exception {
        return server(maxBatch, OpenAiServer.Options.DEFAULT_PREFILL_CHUNK, stateMemory);
    }

    static OpenAiServer server(int maxBatch, int prefillChunk, long stateMemory) throws Exception {
        return new OpenAiServer(List.of(lm), null, null, "127.0.0.1", 0,
                new OpenAiServer.Options(maxBatch, prefillChunk, 16, 5, stateMemory, 1000));
    }

    static JsonNode post(OpenAiServer s, String body) throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v1/completions"))
                .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    /** Eight different requests: greedy and seeded, prompts of different lengths, one with a stop string. */
    static List<String> requests() {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            StringBuilder prompt = new StringBuilder();
            for (int t = 0; t <= 3 * i; t++) {
                prompt.append(t == 0 ? "" : ", ").append((5 * t + i) % 60);
            }
            String sampling = i % 2 == 0 ? "\"temperature\": 0" : "\"temperature\": 0.9, \"top_p\": 0.9, \"seed\": " + (100 + i);
            out.add("{\"prompt\": [" + prompt + "], \"max_tokens\": " + (6 + 3 * i) + ", \"ignore_eos\": true, " + sampling
                    + (i == 3 ? ", \"stop\": \"e\"" : "") + "}");
        }
        return out;
    }

    @Test
    void greedyAndSeededOutputIsTheSameAloneAndInsideAFullBatch() throws Exception {
        OpenAiServer s = server(8, 1L << 30);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<String> bodies = requests();
            List<String> alone = new ArrayList<>();
            for (String b : bodies) {
                JsonNode r = post(s, b);
                alone.add(r.get("choices").get(0).get("token_ids").toString() + r.get("choices").get(0).get("text"));
            }
            BatchScheduler batch = s.scheduler(lm);
            assertEquals(1, batch.peak(), "one at a time so far");
            batch.holdForTest(true);
            List<Future<JsonNode>> together = new ArrayList<>();
            for (String b : bodies) {
                together.add(pool.submit(() -> post(s, b)));
            }
            await(() -> batch.running() == 8, "all eight are admitted");
            batch.holdForTest(false);
            for (int i = 0; i < 8; i++) {
                JsonNode r = together.get(i).get(60, TimeUnit.SECONDS);
                assertEquals(alone.get(i), r.get("choices").get(0).get("token_ids").toString() + r.get("choices").get(0).get("text"),
                        "request " + i);
            }
            assertEquals(8, batch.peak(), "the eight ran in one batch");
        } finally {
            pool.shutdownNow();
            s.close();
        }
    }

    @Test
    void requestsBeyondTheStateMemoryWaitInsteadOfFailing() throws Exception {
        long one = lm.engine().stateBytes(3 + 20);
        OpenAiServer s = server(8, one + one / 2);   // room for one request's decode state
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            BatchScheduler batch = s.scheduler(lm);
            batch.holdForTest(true);
            List<Future<JsonNode>> fs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                fs.add(pool.submit(() -> post(s, "{\"prompt\": [1, 2, 3], \"max_tokens\": 20, \"ignore_eos\": true}")));
            }
            await(() -> batch.running() == 1 && batch.waiting() == 2, "one runs, two wait");
            batch.holdForTest(false);
            for (Future<JsonNode> f : fs) {
                assertEquals(20, f.get(60, TimeUnit.SECONDS).get("usage").get("completion_tokens").asInt());
            }
            assertEquals(1, batch.peak(), "never two at once");
        } finally {
            pool.shutdownNow();
            s.close();
        }
    }

    /**
     * A long prompt joining a decoding stream is fed {@code --prefill-chunk} tokens per pass once the stream decodes
     * (the first pass, where nobody decodes yet, takes up to 256), and both get the tokens they get alone.
     */
    @Test
    void aPromptJoiningADecodingStreamIsFedInPiecesOfThePrefillChunk() throws Exception {
        StringBuilder longPrompt = new StringBuilder();
        for (int t = 0; t < 300; t++) {
            longPrompt.append(t == 0 ? "" : ", ").append((7 * t) % 60);
        }
        String stream = "{\"prompt\": [1], \"max_tokens\": 40, \"ignore_eos\": true, \"temperature\": 0}";
        String joining = "{\"prompt\": [" + longPrompt + "], \"max_tokens\": 5, \"ignore_eos\": true, \"temperature\": 0}";
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int chunk : new int[] {4, 32}) {
                OpenAiServer s = server(8, chunk, 1L << 30);
                try {
                    String alone0 = post(s, stream).get("choices").get(0).get("token_ids").toString();
                    String alone1 = post(s, joining).get("choices").get(0).get("token_ids").toString();
                    BatchScheduler batch = s.scheduler(lm);
                    assertEquals(0, batch.peakPrefillWhileDecoding(), "chunk " + chunk + ": nothing decoded beside a prompt yet");
                    // a response can arrive before its request leaves the batch: without this wait "running == 1"
                    // below could still count the last request alone, and the long prompt could be admitted first
                    await(() -> batch.running() == 0, "the requests alone have left the batch");
                    batch.holdForTest(true);
                    Future<JsonNode> f0 = pool.submit(() -> post(s, stream));
                    await(() -> batch.running() == 1, "the stream is admitted");
                    Future<JsonNode> f1 = pool.submit(() -> post(s, joining));
                    await(() -> batch.running() == 2, "the long prompt is admitted after it");
                    batch.holdForTest(false);
                    assertEquals(alone0, f0.get(60, TimeUnit.SECONDS).get("choices").get(0).get("token_ids").toString(), "chunk " + chunk);
                    assertEquals(alone1, f1.get(60, TimeUnit.SECONDS).get("choices").get(0).get("token_ids").toString(), "chunk " + chunk);
                    // pass 1 feeds 1 + 255 prompt tokens; the remaining 45 go in pieces of the chunk while the stream decodes
                    assertEquals(chunk, batch.peakPrefillWhileDecoding(), "chunk " + chunk);
                } finally {
                    s.close();
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
