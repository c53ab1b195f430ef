package org.nestlm.cli;

import org.nestlm.infer.Engine;
import org.nestlm.infer.LanguageModel;
import org.nestlm.serve.OpenAiServer;
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

    @Option(names = "--parallel", defaultValue = "1", description = "Requests generating at the same time (default ${DEFAULT-VALUE}).")
    int parallel;

    @Option(names = "--max-queue", defaultValue = "16", description = "Requests allowed to wait; beyond that the answer is 429 (default ${DEFAULT-VALUE}).")
    int maxQueue;

    @Option(names = "--threads", defaultValue = "0", description = "Compute threads; 0 = one per processor (default).")
    int threads;

    @Option(names = "--grace", defaultValue = "10", description = "Seconds running requests get to finish on shutdown (default ${DEFAULT-VALUE}).")
    int grace;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) {
            throw new UserException("--port must be in 0..65535, got " + port);
        }
        if (parallel < 1) {
            throw new UserException("--parallel must be at least 1, got " + parallel);
        }
        if (maxQueue < 0) {
            throw new UserException("--max-queue must be ≥ 0, got " + maxQueue);
        }
        LanguageModel lm = LanguageModel.open(model, tokenizer, GenerateCommand.threads(threads));
        OpenAiServer server;
        try {
            server = new OpenAiServer(lm, host, port, parallel, maxQueue, grace);
        } catch (java.io.IOException e) {
            lm.close();
            throw new UserException("cannot listen on " + host + ":" + port + ": " + e.getMessage());
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("nestlm serve: shutting down (waiting up to " + grace + " s for running requests)");
            server.close();
            lm.close();
            stopped.countDown();
        }, "nestlm-serve-shutdown"));
        System.err.printf("nestlm serve: model '%s' at http://%s:%d/v1 (%d threads%s, %d parallel, queue %d%s)%n",
                lm.name(), server.host(), server.port(), lm.engine().threads(), Engine.vectorized() ? ", SIMD" : ", scalar",
                parallel, maxQueue, lm.hasTokenizer() ? "" : ", no tokenizer: prompts as token ids only");
        stopped.await();
        return 0;
    }
}
