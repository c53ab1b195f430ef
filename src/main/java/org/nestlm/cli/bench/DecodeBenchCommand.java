package org.nestlm.cli.bench;

import org.nestlm.infer.Engine;
import org.nestlm.infer.InferenceState;
import org.nestlm.infer.MemoryBandwidth;
import org.nestlm.infer.Parallel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * {@code nestlm bench decode}: prefill and decode speed of the pure-Java engine, and the effective weight
 * bandwidth of decode (bytes of weights read per token × tokens/s) next to the machine's measured
 * memory-read bandwidth, the physical limit for decode.
 */
@Command(name = "decode", mixinStandardHelpOptions = true,
        description = "Measure prefill and decode tokens/s and the effective weight bandwidth against the memory-read bandwidth.",
        footer = {"", "Examples:", "  nestlm bench decode --model my-model", "  nestlm bench decode --model my-model --threads 4 --tokens 256 --json"})
public final class DecodeBenchCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Checkpoint directory.")
    Path model;

    @Option(names = "--threads", defaultValue = "0", description = "Compute threads; 0 = one per processor (default).")
    int threads;

    @Option(names = "--tokens", defaultValue = "128", description = "Tokens to decode (default ${DEFAULT-VALUE}).")
    int tokens;

    @Option(names = "--prompt-tokens", defaultValue = "128", description = "Prompt length for the prefill measurement (default ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = "--bandwidth-mib", defaultValue = "512", description = "Buffer for the memory-bandwidth measurement, MiB (default ${DEFAULT-VALUE}; 0 skips it).")
    int bandwidthMib;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (tokens < 1 || promptTokens < 1) {
            throw new IllegalArgumentException("--tokens and --prompt-tokens must be at least 1");
        }
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        try (Engine engine = Engine.open(model, n)) {
            int vocab = engine.vocabSize();
            int limit = engine.contextLimit();
            if (promptTokens + tokens > limit) {
                throw new IllegalArgumentException("--prompt-tokens + --tokens = " + (promptTokens + tokens)
                        + " exceeds the context limit of " + limit);
            }
            Random r = new Random(0);
            int[] prompt = r.ints(promptTokens, 0, vocab).toArray();

            // warm-up: let the JIT compile (C2) the kernels on both paths before timing
            for (int rep = 0; rep < 3; rep++) {
                InferenceState warm = engine.newState();
                engine.forward(warm, java.util.Arrays.copyOf(prompt, Math.min(prompt.length, 64)), false);
                for (int i = 0; i < Math.min(tokens, 64); i++) {
                    engine.step(warm, i % vocab);
                }
            }

            InferenceState s = engine.newState();
            long t0 = System.nanoTime();
            float[] logits = engine.forward(s, prompt, false);
            long prefillNs = System.nanoTime() - t0;

            int token = argmax(logits, vocab);
            long t1 = System.nanoTime();
            for (int i = 0; i < tokens; i++) {
                logits = engine.step(s, token);
                token = argmax(logits, vocab);
            }
            long decodeNs = System.nanoTime() - t1;

            double prefillTps = promptTokens * 1e9 / prefillNs;
            double decodeTps = tokens * 1e9 / decodeNs;
            long bytesPerToken = engine.weightBytesPerToken();
            double effective = bytesPerToken * decodeTps;
            double memory = 0;
            if (bandwidthMib > 0) {
                try (Parallel p = new Parallel(n)) {
                    memory = MemoryBandwidth.measureReadBytesPerSecond(p, (long) bandwidthMib << 20, 5);
                }
            }
            String dtype = engine.checkpoint().tensor(org.nestlm.model.WeightNames.embeddings()).dtype().name();
            long params = engine.architecture().parameterCount();
            if (json) {
                System.out.printf(Locale.ROOT, "{\"model\": \"%s\", \"parameters\": %d, \"weights_dtype\": \"%s\", \"threads\": %d, "
                                + "\"simd\": %b, \"prompt_tokens\": %d, \"decode_tokens\": %d, \"prefill_tokens_per_s\": %.2f, "
                                + "\"decode_tokens_per_s\": %.2f, \"weight_bytes_per_token\": %d, \"effective_bandwidth_gb_s\": %.3f, "
                                + "\"memory_read_bandwidth_gb_s\": %.3f, \"ratio\": %.4f}%n",
                        model.toString().replace("\\", "\\\\").replace("\"", "\\\""), params, dtype, n, Engine.vectorized(),
                        promptTokens, tokens, prefillTps, decodeTps, bytesPerToken, effective / 1e9, memory / 1e9,
                        memory > 0 ? effective / memory : 0);
            } else {
                System.out.printf(Locale.ROOT, "model            %s (%,d parameters, %s weights)%n", model, params, dtype);
                System.out.printf(Locale.ROOT, "threads          %d (%s kernels)%n", n, Engine.vectorized() ? "SIMD" : "scalar");
                System.out.printf(Locale.ROOT, "prefill          %d tokens in %.1f ms: %.1f tokens/s%n", promptTokens, prefillNs / 1e6, prefillTps);
                System.out.printf(Locale.ROOT, "decode           %d tokens in %.1f ms: %.1f tokens/s (%.3f ms/token)%n", tokens,
                        decodeNs / 1e6, decodeTps, decodeNs / 1e6 / tokens);
                System.out.printf(Locale.ROOT, "weights/token    %.2f MiB%n", bytesPerToken / 1048576.0);
                System.out.printf(Locale.ROOT, "effective BW     %.2f GB/s (weights read per token x decode tokens/s)%n", effective / 1e9);
                if (memory > 0) {
                    System.out.printf(Locale.ROOT, "memory read BW   %.2f GB/s (measured, %d MiB buffer, %d threads)%n", memory / 1e9, bandwidthMib, n);
                    System.out.printf(Locale.ROOT, "ratio            %.1f %% of the memory-read bound%s%n", 100 * effective / memory,
                            effective > memory ? " (weights fit in cache: decode is not memory-bound at this size)" : "");
                }
            }
        }
        return 0;
    }

    private static int argmax(float[] v, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
