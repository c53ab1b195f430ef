package org.nestlm.cli.bench;

import org.nestlm.infer.Engine;
import org.nestlm.infer.Generation;
import org.nestlm.infer.Generator;
import org.nestlm.infer.LanguageModel;
import org.nestlm.infer.SamplingParams;
import org.nestlm.infer.SpeculativeStats;
import org.nestlm.infer.InferenceState;
import org.nestlm.infer.MemoryBandwidth;
import org.nestlm.infer.Parallel;
import org.nestlm.cli.SizeOptions;
import org.nestlm.sizes.LatencyProfile;
import org.nestlm.infer.ElasticFamily;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;
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
        footer = {"", "Examples:", "  nestlm bench decode --model my-model", "  nestlm bench decode --model my-model --threads 4 --tokens 256 --json",
                "  nestlm bench decode --model elastic --all-sizes   (fills latency.json for --max-latency-ms)"})
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

    @Option(names = "--repeats", defaultValue = "3", description = "Timed runs of prefill and decode; medians are reported (default ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--warmup-seconds", defaultValue = "2", description = "Untimed decoding first, so the JIT has compiled the kernels (default ${DEFAULT-VALUE}).")
    double warmupSeconds;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    /** The nested size to benchmark: a budget (trained or interpolated) or limits. */
    @Mixin
    SizeOptions size;

    @Option(names = "--all-sizes", description = "Measure decode of the full model and of every trained size of an elastic checkpoint, one line each, and record them all.")
    boolean allSizes;

    @Option(names = "--no-record", description = "Do not record the decode latency in the checkpoint's latency.json (used by --max-latency-ms).")
    boolean noRecord;

    @Option(names = "--draft-budget", description = "Also decode speculatively with this nested size as draft: acceptance rate and speed-up.")
    String draftBudget;

    @Option(names = "--draft-tokens", defaultValue = "4", description = "Draft tokens per speculative round (default ${DEFAULT-VALUE}).")
    int draftTokens;

    @Option(names = "--quantize", description = "Quantise the weights at load: q8 (int8, groups of 32 columns) or none (default).")
    String quantize;

    @Option(names = "--batch-sizes", split = ",", description = "Instead, decode B sequences in each pass (continuous batching), "
            + "for each B of this list: aggregate tokens/s and ms per pass.")
    int[] batch;

    @Option(names = "--measure-nll", hidden = true, description = "Also print the mean negative log-likelihood of this text file "
            + "(needs a tokenizer; at most --nll-tokens tokens, in windows of the context limit).")
    Path measureNll;

    @Option(names = "--nll-tokens", hidden = true, defaultValue = "4096")
    int nllTokens;

    @Override
    public Integer call() throws Exception {
        if (tokens < 1 || promptTokens < 1) {
            throw new IllegalArgumentException("--tokens and --prompt-tokens must be at least 1");
        }
        if (repeats < 1 || !(warmupSeconds >= 0)) {
            throw new IllegalArgumentException("--repeats must be at least 1 and --warmup-seconds at least 0");
        }
        if (threads < 0) {
            throw new IllegalArgumentException("--threads must be 0 (one per processor) or a positive count, got " + threads);
        }
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        if (draftTokens < 1) {
            throw new IllegalArgumentException("--draft-tokens must be at least 1, got " + draftTokens);
        }
        if (allSizes) {
            if (draftBudget != null || size.given()) {
                throw new IllegalArgumentException("--all-sizes measures every trained size: it takes no --budget, limits or --draft-budget");
            }
            return allSizes(n);
        }
        if (quantize != null && !quantize.equalsIgnoreCase("q8") && !quantize.equalsIgnoreCase("none")) {
            throw new IllegalArgumentException("--quantize must be q8 or none, got '" + quantize + "'");
        }
        boolean q8 = quantize != null && quantize.equalsIgnoreCase("q8");
        if (q8 && (allSizes || size.given() || draftBudget != null)) {
            throw new IllegalArgumentException("--quantize q8 runs the whole model: it takes no --budget, limits, --draft-budget or --all-sizes");
        }
        // the size resolves once, on the mapping the benchmark runs from
        try (LanguageModel lm = LanguageModel.open(model, null, n, size.given() ? sizes -> size.resolve(sizes, n, System.err) : null,
                draftBudget, q8)) {
            Engine engine = lm.engine();
            if (measureNll != null) {
                measureNll(lm);
            }
            int vocab = engine.vocabSize();
            int limit = engine.contextLimit();
            if (promptTokens + tokens > limit) {
                throw new IllegalArgumentException("--prompt-tokens + --tokens = " + (promptTokens + tokens)
                        + " exceeds the context limit of " + limit);
            }
            Random r = new Random(0);
            int[] prompt = r.ints(promptTokens, 0, vocab).toArray();

            warmUp(engine, prompt);
            if (batch != null) {
                batched(engine, prompt, n);
                return 0;
            }

            // repeats: prefill and decode are timed `repeats` times from a fresh state; the medians are reported
            double[] prefill = new double[repeats], decode = new double[repeats];
            for (int rep = 0; rep < repeats; rep++) {
                InferenceState s = engine.newState();
                long t0 = System.nanoTime();
                float[] logits = engine.forward(s, prompt, false);
                prefill[rep] = System.nanoTime() - t0;
                int token = argmax(logits, vocab);
                long t1 = System.nanoTime();
                for (int i = 0; i < tokens; i++) {
                    token = argmax(engine.step(s, token), vocab);
                }
                decode[rep] = System.nanoTime() - t1;
            }
            double prefillNs = median(prefill), decodeNs = median(decode);

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
            Speculative spec = draftBudget == null ? null : speculative(lm, prompt);
            String dtype = engine.checkpoint().tensor(org.nestlm.model.WeightNames.embeddings()).dtype().name();
            long params = engine.architecture().parameterCount();
            record(lm.budget() == null ? "100%" : lm.budget().budget(), params, n, dtype, decodeNs / 1e6 / tokens);
            if (json) {
                System.out.printf(Locale.ROOT, "{\"model\": \"%s\", \"parameters\": %d, \"weights_dtype\": \"%s\", \"threads\": %d, "
                                + "\"simd\": %b, \"prompt_tokens\": %d, \"decode_tokens\": %d, \"prefill_tokens_per_s\": %.2f, "
                                + "\"decode_tokens_per_s\": %.2f, \"weight_bytes_per_token\": %d, \"effective_bandwidth_gb_s\": %.3f, "
                                + "\"memory_read_bandwidth_gb_s\": %.3f, \"ratio\": %.4f}%n",
                        model.toString().replace("\\", "\\\\").replace("\"", "\\\""), params, dtype, n, Engine.vectorized(),
                        promptTokens, tokens, prefillTps, decodeTps, bytesPerToken, effective / 1e9, memory / 1e9,
                        memory > 0 ? effective / memory : 0);
                if (spec != null) {
                    System.out.printf(Locale.ROOT, "{\"speculative\": {\"model\": \"%s\", \"draft_budget\": \"%s\", \"draft_tokens\": %d, "
                                    + "\"acceptance_rate\": %.4f, \"tokens_per_target_pass\": %.3f, \"plain_tokens_per_s\": %.2f, "
                                    + "\"speculative_tokens_per_s\": %.2f, \"speedup\": %.3f, \"identical_greedy_output\": %b}}%n",
                            lm.name(), draftBudget, draftTokens, spec.acceptance, spec.perPass, spec.plainTps, spec.specTps,
                            spec.specTps / spec.plainTps, spec.identical);
                }
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
                    // above the bound: small weights stay in cache; large ones mean the bound was measured low
                    // (the buffer is meant to be several times the last-level cache)
                    String above = effective <= memory ? ""
                            : bytesPerToken * 4 < (long) bandwidthMib << 20
                            ? " (weights fit in cache: decode is not memory-bound at this size)"
                            : " (the bound was measured low, while something else used the memory: rerun)";
                    System.out.printf(Locale.ROOT, "ratio            %.1f %% of the memory-read bound%s%n", 100 * effective / memory, above);
                }
                if (spec != null) {
                    System.out.printf(Locale.ROOT, "speculative      draft %s, %d tokens/round: %.1f %% of drafts accepted, %.2f tokens per target pass%n",
                            draftBudget, draftTokens, 100 * spec.acceptance, spec.perPass);
                    System.out.printf(Locale.ROOT, "                 greedy %d tokens: plain %.1f tokens/s, speculative %.1f tokens/s, speed-up %.2fx%s%n",
                            tokens, spec.plainTps, spec.specTps, spec.specTps / spec.plainTps,
                            spec.identical ? " (identical output)" : " (OUTPUT DIFFERS)");
                }
            }
        }
        return 0;
    }

    /**
     * Decode latency of the full model and every trained size, all on views of one mapping (the same weights the
     * server maps), each after its own warm-up; one line per size, each recorded in latency.json.
     */
    private int allSizes(int threads) throws java.io.IOException {
        try (ElasticFamily family = ElasticFamily.open(model, null, threads)) {
            String dtype = family.checkpoint().tensor(org.nestlm.model.WeightNames.embeddings()).dtype().name();
            System.out.printf(Locale.ROOT, "decode latency, %d tokens after a %d-token prompt, %d threads, %s weights%n",
                    tokens, promptTokens, threads, dtype);
            System.out.println("  size                parameters   ms/token   tokens/s");
            for (LanguageModel lm : family.members()) {
                Engine engine = lm.engine();
                if (promptTokens + tokens > engine.contextLimit()) {
                    throw new IllegalArgumentException("--prompt-tokens + --tokens = " + (promptTokens + tokens)
                            + " exceeds the context limit of " + engine.contextLimit());
                }
                int[] prompt = new Random(0).ints(promptTokens, 0, engine.vocabSize()).toArray();
                warmUp(engine, prompt);
                double[] runs = new double[repeats];
                for (int rep = 0; rep < repeats; rep++) {
                    runs[rep] = decodeNs(engine, prompt, tokens);
                }
                double ms = median(runs) / 1e6 / tokens;
                String label = lm.budget() == null ? "100%" : lm.budget().budget();
                long params = engine.architecture().parameterCount();
                System.out.printf(Locale.ROOT, "  %-16s %,13d   %8.3f   %8.1f%n", label, params, ms, 1000 / ms);
                record(label, params, threads, dtype, ms);
            }
        }
        return 0;
    }

    /** Mean NLL (nats/token) and perplexity of the first --nll-tokens tokens of --measure-nll, windows of the context. */
    private void measureNll(LanguageModel lm) throws java.io.IOException {
        if (!lm.hasTokenizer()) {
            throw new IllegalArgumentException("--measure-nll needs a tokenizer.json next to the model");
        }
        Engine engine = lm.engine();
        String text = java.nio.file.Files.readString(measureNll);
        int[] all = lm.text().encode(text);
        int total = (int) Math.min(all.length, nllTokens);
        int window = Math.min(engine.contextLimit(), 512);
        int vocab = engine.vocabSize();
        double nll = 0;
        long count = 0;
        long t0 = System.nanoTime();
        for (int start = 0; start + 1 < total; start += window) {
            int len = Math.min(window, total - start);
            InferenceState s = engine.newState();
            float[] logits = null;
            for (int i = 0; i < len; i++) {
                if (i > 0) {
                    nll -= logSoftmax(logits, vocab, all[start + i]);
                    count++;
                }
                logits = engine.step(s, all[start + i]);
            }
        }
        System.out.printf(Locale.ROOT, "nll              %.4f nats/token over %d tokens (perplexity %.3f, %s weights, %.1f s)%n",
                nll / count, count, Math.exp(nll / count), engine.quantized() ? "q8" : "as stored",
                (System.nanoTime() - t0) / 1e9);
    }

    private static double logSoftmax(float[] logits, int vocab, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits[i]);
        }
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            sum += Math.exp(logits[i] - max);
        }
        return logits[target] - max - Math.log(sum);
    }

    /**
     * Untimed prefill + decode for at least three rounds and --warmup-seconds: C2 compiles the prefill and decode
     * kernels only after many calls; time-based so that a large model is not warmed for minutes and a small one is
     * warmed long enough.
     */
    private void warmUp(Engine engine, int[] prompt) {
        long until = System.nanoTime() + (long) (warmupSeconds * 1e9);
        for (int rep = 0; rep < 3 || System.nanoTime() < until; rep++) {
            decodeNs(engine, java.util.Arrays.copyOf(prompt, Math.min(prompt.length, 64)), Math.min(tokens, 64));
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** Prefills {@code prompt}, then times {@code n} greedy decode steps. */
    private static long decodeNs(Engine engine, int[] prompt, int n) {
        InferenceState s = engine.newState();
        int token = argmax(engine.forward(s, prompt, false), engine.vocabSize());
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            token = argmax(engine.step(s, token), engine.vocabSize());
        }
        return System.nanoTime() - t0;
    }

    /** Adds a measurement to the checkpoint's latency profile; a read-only checkpoint only gets a warning. */
    private void record(String budget, long params, int threads, String dtype, double msPerToken) {
        if (noRecord) {
            return;
        }
        try {
            LatencyProfile.record(model, new LatencyProfile.Point(budget, params, threads, dtype, msPerToken, tokens,
                    java.time.Instant.now().toString()));
        } catch (java.io.IOException e) {
            System.err.println("warning: decode latency not recorded in " + LatencyProfile.file(model) + ": " + e.getMessage());
        }
    }

    private record Speculative(double acceptance, double perPass, double plainTps, double specTps, boolean identical) {
    }

    /** Greedy generation of --tokens tokens, plain and speculative (after a warm-up of each), same prompt. */
    private Speculative speculative(LanguageModel lm, int[] prompt) {
        lm.draftTokens(draftTokens);
        SamplingParams p = new SamplingParams(tokens, 0, 0, 1, null, java.util.List.of(), true);
        Generator plain = new Generator(lm.engine(), null);
        plain.generate(prompt, new SamplingParams(Math.min(tokens, 32), 0, 0, 1, null, java.util.List.of(), true), null);
        lm.generator().generate(prompt, new SamplingParams(Math.min(tokens, 32), 0, 0, 1, null, java.util.List.of(), true), null);
        long t0 = System.nanoTime();
        Generation a = plain.generate(prompt, p, null);
        long t1 = System.nanoTime();
        Generator spec = new Generator(lm.engine(), null, lm.draft(), draftTokens, new SpeculativeStats());
        Generation b = spec.generate(prompt, p, null);
        long t2 = System.nanoTime();
        SpeculativeStats st = spec.stats();
        // both include the prefill, so the ratio is the end-to-end speed-up of a --tokens generation
        return new Speculative(st.acceptanceRate(), st.tokensPerTargetPass(), tokens * 1e9 / (t1 - t0), tokens * 1e9 / (t2 - t1),
                java.util.Arrays.equals(a.tokens(), b.tokens()));
    }

    /**
     * Greedy decode of {@code tokens} tokens for B sequences at once (each after the prompt, prefilled untimed),
     * {@code repeats} times per B; medians. Every pass reads the weights once for all B sequences. Next to the wall
     * time it reports the process's CPU time per pass (all threads, the pool's spinning included) and the load
     * average before and after: on a shared machine the wall time depends on the share of the cores this process
     * got, the CPU time much less.
     */
    private void batched(Engine engine, int[] prompt, int threads) {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        double loadBefore = os.getSystemLoadAverage();
        if (!json) {
            System.out.printf(Locale.ROOT, "model %s, %d threads, %d prompt tokens, %d decoded per sequence%n", model, threads,
                    prompt.length, tokens);
            System.out.printf(Locale.ROOT, "%6s %12s %14s %12s %16s%n", "batch", "ms/pass", "tokens/s", "x batch 1", "CPU ms/pass");
        }
        for (int b : batch) {
            if (b < 1) {
                throw new IllegalArgumentException("--batch-sizes must be at least 1, got " + b);
            }
        }
        // untimed: the largest batch once, so the many-row kernels are compiled too
        batchedNs(engine, prompt, Arrays.stream(batch).max().getAsInt(), Math.min(tokens, 8));
        double single = 0;
        for (int b : batch) {
            double[] runs = new double[repeats], cpu = new double[repeats];
            for (int rep = 0; rep < repeats; rep++) {
                long[] t = batchedNs(engine, prompt, b, tokens);
                runs[rep] = t[0];
                cpu[rep] = t[1];
            }
            double ns = median(runs), cpuNs = median(cpu);
            double tps = (double) b * tokens * 1e9 / ns;
            if (single == 0) {
                single = b == 1 ? tps : 0;
            }
            if (json) {
                System.out.printf(Locale.ROOT, "{\"model\": \"%s\", \"threads\": %d, \"batch\": %d, \"ms_per_pass\": %.3f, "
                                + "\"tokens_per_s\": %.2f, \"cpu_ms_per_pass\": %.3f}%n",
                        model.toString().replace("\\", "\\\\").replace("\"", "\\\""), threads, b, ns / 1e6 / tokens, tps,
                        cpuNs < 0 ? -1 : cpuNs / 1e6 / tokens);
            } else {
                System.out.printf(Locale.ROOT, "%6d %12.2f %14.1f %12s %16s%n", b, ns / 1e6 / tokens, tps,
                        single > 0 ? String.format(Locale.ROOT, "%.2f", tps / single) : "",
                        cpuNs < 0 ? "" : String.format(Locale.ROOT, "%.2f", cpuNs / 1e6 / tokens));
            }
        }
        double loadAfter = os.getSystemLoadAverage();
        if (!json && loadBefore >= 0) {
            System.out.printf(Locale.ROOT, "load average %.2f -> %.2f (1 minute)%n", loadBefore, loadAfter);
        }
    }

    private static int argmax(float[] v, int n) {
        return argmaxAt(v, 0, n);
    }

    /**
     * Wall and process CPU nanoseconds (CPU: -1 where the JVM does not tell) of {@code passes} greedy batched passes
     * over {@code b} sequences, each prefilled (untimed) with the prompt.
     */
    private static long[] batchedNs(Engine engine, int[] prompt, int b, int passes) {
        int vocab = engine.vocabSize();
        InferenceState[] states = new InferenceState[b];
        int[][] in = new int[b][1];
        for (int i = 0; i < b; i++) {
            states[i] = engine.newState();
            in[i][0] = argmax(engine.forward(states[i], prompt, false), vocab);
        }
        long c0 = processCpuNs();
        long t0 = System.nanoTime();
        for (int t = 0; t < passes; t++) {
            float[] logits = engine.forward(states, in);
            for (int i = 0; i < b; i++) {
                in[i][0] = argmaxAt(logits, i * vocab, vocab);
            }
        }
        long wall = System.nanoTime() - t0, c1 = processCpuNs();
        return new long[] {wall, c0 < 0 || c1 < 0 ? -1 : c1 - c0};
    }

    /** CPU time of this process so far (all threads), or -1. */
    private static long processCpuNs() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os ? os.getProcessCpuTime() : -1;
    }

    /** Index in [0, n) of the largest of {@code v[off, off + n)}. */
    private static int argmaxAt(float[] v, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (v[off + i] > v[off + best]) {
                best = i;
            }
        }
        return best;
    }
}
