package org.nestlm.cli;

import org.nestlm.infer.Engine;
import org.nestlm.infer.ElasticFamily;
import org.nestlm.infer.LanguageModel;
import org.nestlm.sizes.ElasticModel;
import org.nestlm.sizes.LatencyProfile;
import org.nestlm.sizes.TrainedBudget;
import org.nestlm.serve.ElasticSizes;
import org.nestlm.serve.OpenAiServer;
import org.nestlm.serve.ServerLimits;
import org.nestlm.sizes.ElasticBudgets;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code nestlm serve}: an OpenAI-compatible HTTP server on the pure-Java engine. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve a model over an OpenAI-compatible HTTP API (/v1/models, /v1/completions, /v1/chat/completions, /health).",
        footer = {"", "Examples:", "  nestlm serve --model my-model --port 8080",
                "  curl -s localhost:8080/v1/completions -d '{\"prompt\": \"The cat\", \"max_tokens\": 20}'",
                "  curl -sN localhost:8080/v1/chat/completions -d '{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stream\": true}'"})
final class ServeCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Checkpoint directory.")
    Path model;

    @Option(names = "--tokenizer", description = "tokenizer.json (default: the one in the model directory).")
    Path tokenizer;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to bind (default ${DEFAULT-VALUE}: this machine only).")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "Port (default ${DEFAULT-VALUE}; 0 picks a free one).")
    int port;

    @Option(names = {"--max-batch", "--parallel"}, defaultValue = "0", description = "Requests generating together in one "
            + "batch per size (continuous batching: each step reads the weights once for all); 0 = four per processor, "
            + "8 to 64 (default).")
    int maxBatch;

    @Option(names = "--prefill-chunk", defaultValue = "" + OpenAiServer.Options.DEFAULT_PREFILL_CHUNK, description = "Prompt "
            + "tokens fed per pass while other requests decode: smaller keeps the streams' slowest tokens faster, larger "
            + "gives a joining request its first token sooner (default ${DEFAULT-VALUE}).")
    int prefillChunk;

    @Option(names = "--max-queue", defaultValue = "64", description = "Requests allowed to wait beyond the running ones; beyond "
            + "that the answer is 429 (default ${DEFAULT-VALUE}).")
    int maxQueue;

    @Option(names = "--state-memory", description = "Decode state (KV caches, Mamba states) the running requests may hold "
            + "together, e.g. 2GiB; requests beyond wait (default: half the JVM heap).")
    String stateMemory;

    @Option(names = "--request-timeout", defaultValue = "30", description = "Seconds a client has to send a request's headers and "
            + "body (default ${DEFAULT-VALUE}).")
    int requestTimeout;

    @Option(names = "--max-connections", defaultValue = "512", description = "Most open connections (default ${DEFAULT-VALUE}).")
    int maxConnections;

    @Option(names = "--quantize", description = "Quantise the weights at load: q8 (int8, groups of 32 columns) or none (default); "
            + "not for elastic checkpoints.")
    String quantize;

    @Option(names = "--threads", defaultValue = "0", description = "Compute threads; 0 = one per processor (default).")
    int threads;

    /** The size answering requests that name none (default: the full model), and how request limits count memory. */
    @Mixin
    SizeOptions size;

    @Option(names = "--max-open-sizes", defaultValue = "16", description = "Most interpolated sizes opened for requests (default ${DEFAULT-VALUE}).")
    int maxOpenSizes;

    @Option(names = "--grace", defaultValue = "10", description = "Seconds running requests get to finish on shutdown (default ${DEFAULT-VALUE}).")
    int grace;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) {
            throw new UserException("--port must be in 0..65535, got " + port);
        }
        if (maxBatch < 0) {
            throw new UserException("--max-batch must be ≥ 0 (0: the default), got " + maxBatch);
        }
        int batch = maxBatch == 0 ? OpenAiServer.Options.defaultMaxBatch() : maxBatch;
        long stateBytes = OpenAiServer.Options.defaultStateMemory();
        if (stateMemory != null) {
            try {
                stateBytes = org.nestlm.sizes.MemoryModel.parseBytes(stateMemory);
            } catch (IllegalArgumentException e) {
                throw new UserException("--state-memory: " + e.getMessage());
            }
        }
        OpenAiServer.Options options;
        try {
            options = new OpenAiServer.Options(batch, prefillChunk, maxQueue, grace, stateBytes, 1000);
            ServerLimits.configure(requestTimeout, maxConnections);
        } catch (IllegalArgumentException e) {
            throw new UserException(e.getMessage());
        }
        // every trained size of an elastic checkpoint is served from one mapping of the full weights
        int n = GenerateCommand.threads(threads);
        boolean q8 = GenerateCommand.quantize(quantize);
        if (q8 && ElasticBudgets.isElastic(model)) {
            throw new UserException("--quantize q8 is not supported for elastic checkpoints (" + model
                    + " has elastic.json): their nested sizes are read as views of the mapped weights");
        }
        ElasticFamily family = ElasticFamily.open(model, tokenizer, n, q8);
        LanguageModel lm = family.members().getFirst();
        ElasticSizes sizes = null;
        OpenAiServer server;
        try {
            ElasticModel em = family.sizes();
            if (em.isElastic()) {
                // any budget in the trained range and limits per request; other sizes open on first use, on the
                // family's one mapping and thread pool
                LatencyProfile profile = LatencyProfile.readOrEmpty(model);
                sizes = new ElasticSizes(em, size.memoryModel(em.checkpoint()), profile.points().isEmpty() ? null : profile, n,
                        t -> {
                            try {
                                return family.member(t);
                            } catch (java.io.IOException e) {
                                throw new java.io.UncheckedIOException(e);
                            }
                        }, maxOpenSizes);
                TrainedBudget chosen = size.resolve(em, n, System.err);
                if (chosen != null) {
                    lm = sizes.model(chosen, family.members());
                }
            } else if (size.given()) {
                throw new UserException(model + " has no elastic.json: --budget and limits need an elastic checkpoint");
            }
            server = new OpenAiServer(family.members(), sizes, lm, host, port, options);
        } catch (java.io.IOException | RuntimeException e) {
            if (sizes != null) {
                sizes.close();
            }
            family.close();
            if (e instanceof java.net.BindException || e instanceof java.net.SocketException) {
                throw new UserException("cannot listen on " + host + ":" + port + ": " + e.getMessage());
            }
            throw e;
        }
        ElasticSizes openedSizes = sizes;
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("nestlm serve: shutting down (waiting up to " + grace + " s for running requests)");
            server.close();
            if (openedSizes != null) {
                openedSizes.close();
            }
            family.close();
            stopped.countDown();
        }, "nestlm-serve-shutdown"));
        System.err.printf("nestlm serve: model '%s' at http://%s:%d/v1 (%d threads%s, batches of up to %d, queue %d, "
                        + "decode state up to %s%s)%n",
                lm.name(), server.host(), server.port(), lm.engine().threads(), Engine.vectorized() ? ", SIMD" : ", scalar",
                batch, maxQueue, CliSupport.bytes(stateBytes), lm.hasTokenizer() ? "" : ", no tokenizer: prompts as token ids only");
        for (LanguageModel m : family.members()) {
            System.err.printf("  model '%s': %s parameters%n", m.name(), CliSupport.count(m.engine().parameterCount()));
        }
        System.err.printf("  weights: %s mapped once for all %d sizes%n", CliSupport.bytes(family.checkpoint().weightBytes()),
                family.members().size());
        if (sizes != null) {
            System.err.printf("  any budget from %s (router interpolation) and limits max_params, max_memory (%s), max_latency_ms%n",
                    ElasticModel.percent(sizes.model().minTrainedFraction(), 2) + " to " + ElasticModel.percent(sizes.model().maxTrainedFraction(), 2),
                    sizes.memory().dtype().name().toLowerCase(java.util.Locale.ROOT) + ", context " + sizes.memory().context()
                            + ", batch " + sizes.memory().batch());
        }
        stopped.await();
        return 0;
    }
}
