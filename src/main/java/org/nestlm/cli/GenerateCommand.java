package org.nestlm.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import org.nestlm.api.Completion;
import org.nestlm.api.Nestlm;
import org.nestlm.api.NestlmException;
import org.nestlm.api.OpenOptions;
import org.nestlm.api.Sampling;
import org.nestlm.api.Speculation;
import org.nestlm.api.TextModel;
import org.nestlm.sizes.TrainedBudget;
import org.nestlm.infer.Engine;
import org.nestlm.infer.SamplingParams;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code nestlm generate}: continue a prompt with the pure-Java engine, streaming the text (through {@link Nestlm}). */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate a continuation with the pure-Java engine (weights used in place, BF16/F32/F16), streamed to stdout.",
        footer = {"", "Examples:", "  nestlm generate --model my-model --prompt 'The cat' --max-tokens 40",
                "  nestlm generate --model tiny --ids 1,2,3 --max-tokens 8 --json",
                "  nestlm generate --model my-model --prompt 'Q:' --temperature 0.8 --top-p 0.95 --seed 1 --stop '\\n'"})
final class GenerateCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Checkpoint directory.")
    Path model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--prompt", description = "Text to continue (needs a tokenizer).")
        String prompt;
        @Option(names = "--ids", description = "Comma-separated prompt token ids (no tokenizer needed).")
        String ids;
    }

    @Option(names = "--tokenizer", description = "tokenizer.json (default: the one in the model directory).")
    Path tokenizer;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--threads", defaultValue = "0", description = "Compute threads; 0 = one per processor (default).")
    int threads;

    @Option(names = "--json", description = "Print one JSON object at the end instead of streaming text.")
    boolean json;

    @Mixin
    Elastic elastic;

    @Mixin
    SizeOptions size;

    /** Speculative options shared by generate and chat (the size itself comes from {@link SizeOptions}). */
    static final class Elastic {
        @Option(names = "--draft-budget", description = "Decode speculatively with this smaller nested size as draft.")
        String draftBudget;
        @Option(names = "--draft-tokens", defaultValue = "4", description = "Draft tokens per speculative round (default ${DEFAULT-VALUE}).")
        int draftTokens;
        @Option(names = "--quantize", description = "Quantise the weights at load: q8 (int8, groups of 32 columns with one scale each; "
                + "about 0.56× the BF16 bytes per token) or none (default).")
        String quantize;

        /**
         * Opens {@code model} as a library checkpoint and the size {@code size} asks for (by budget, or the largest
         * under its limits, printed to stderr), decoding speculatively with {@code --draft-budget}.
         */
        Opened open(Path model, Path tokenizer, int threads, SizeOptions size) throws java.io.IOException, NestlmException {
            if (draftTokens < 1) {
                throw new UserException("--draft-tokens must be at least 1, got " + draftTokens);
            }
            boolean q8 = quantize(quantize);
            if (q8 && (size.given() || draftBudget != null)) {
                throw new UserException("--quantize q8 runs the whole model: it cannot be combined with a budget, "
                        + "limits or --draft-budget (nested sizes are read as views of the mapped weights)");
            }
            Nestlm ckpt = Nestlm.open(model, OpenOptions.defaults().withThreads(threads).withTokenizer(tokenizer).withQuantize(q8));
            try {
                TrainedBudget chosen = size.resolve(ckpt.nested(), threads, System.err);
                TextModel m = chosen == null ? ckpt.model() : ckpt.model(chosen);
                return new Opened(ckpt, draftBudget == null ? m : m.withDraft(draftBudget, draftTokens));
            } catch (java.io.IOException | NestlmException | RuntimeException e) {
                ckpt.close();
                throw e;
            }
        }
    }

    /** An open checkpoint and the size that runs; closing it closes the checkpoint. */
    record Opened(Nestlm checkpoint, TextModel model) implements AutoCloseable {
        @Override
        public void close() {
            checkpoint.close();
        }
    }

    /** Sampling options shared by generate and chat. */
    static final class SamplingOptions {
        @Option(names = "--max-tokens", defaultValue = "64", description = "Most tokens to generate (default ${DEFAULT-VALUE}).")
        int maxTokens;
        @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default ${DEFAULT-VALUE}).")
        double temperature;
        @Option(names = "--top-k", defaultValue = "0", description = "Sample from the k most likely tokens; 0 = all (default).")
        int topK;
        @Option(names = "--top-p", defaultValue = "1", description = "Nucleus sampling mass; 1 = all (default).")
        double topP;
        @Option(names = "--seed", description = "Random seed for sampling (default: random).")
        Long seed;
        @Option(names = "--stop", description = "Stop when this string is generated (repeatable).")
        List<String> stop;
        @Option(names = "--ignore-eos", description = "Do not stop at the end-of-sequence token.")
        boolean ignoreEos;

        /** The sampling options, each checked under its option's name. */
        Sampling sampling() {
            List<String> stops = stop == null ? List.of() : stop;
            try {
                new SamplingParams(maxTokens, temperature, topK, topP, seed, stops, ignoreEos);   // validates
            } catch (IllegalArgumentException e) {
                throw new UserException(e.getMessage().replace("max_tokens", "--max-tokens").replace("top_k", "--top-k")
                        .replace("top_p", "--top-p").replace("temperature", "--temperature"));
            }
            return new Sampling(maxTokens, temperature, topK, topP, seed, stops, ignoreEos);
        }
    }

    /** {@code --quantize}: null or none → false (weights read in place), q8 → true. */
    public static boolean quantize(String value) {
        if (value == null || value.equalsIgnoreCase("none")) {
            return false;
        }
        if (value.equalsIgnoreCase("q8")) {
            return true;
        }
        throw new UserException("--quantize must be q8 or none, got '" + value + "'");
    }

    /** 0 → one thread per processor; a negative count is a mistake, not a default. */
    static int threads(int requested) {
        if (requested < 0) {
            throw new UserException("--threads must be 0 (one per processor) or a positive count, got " + requested);
        }
        return requested > 0 ? requested : Runtime.getRuntime().availableProcessors();
    }

    @Override
    public Integer call() throws Exception {
        Sampling params = sampling.sampling();
        try (Opened opened = elastic.open(model, tokenizer, threads(threads), size)) {
            TextModel lm = opened.model();
            int[] prompt;
            if (input.ids != null) {
                long[] ids = CliSupport.parseIds(input.ids);
                prompt = new int[ids.length];
                for (int i = 0; i < ids.length; i++) {
                    prompt[i] = Math.toIntExact(Math.min(ids[i], Integer.MAX_VALUE));
                }
            } else {
                if (!lm.hasTokenizer()) {
                    throw new UserException(model + " has no tokenizer.json; pass --tokenizer FILE or use --ids");
                }
                prompt = lm.encode(input.prompt);
                if (prompt.length == 0) {
                    throw new UserException("--prompt: the text has no tokens");
                }
            }
            if (!params.stop().isEmpty() && !lm.hasTokenizer()) {
                throw new UserException("--stop needs a tokenizer (the model has no tokenizer.json)");
            }
            PrintStream out = System.out;
            Completion c;
            try {
                c = lm.stream(prompt, params, json ? null : (token, delta) -> {
                    if (delta != null) {
                        out.print(delta);
                    } else if (token >= 0) {
                        out.print(token + " ");
                    }
                    out.flush();
                });
            } catch (NestlmException e) {
                throw new UserException(("prompt".equals(e.field()) && input.ids != null ? "--ids: " : "") + e.getMessage());
            }
            if (json) {
                writeJson(out, prompt, c, lm);
            } else {
                out.println();
                System.err.printf(Locale.ROOT, "[%d prompt tokens, %d generated (%s); prefill %.1f tok/s, decode %.1f tok/s, %d threads%s]%n",
                        prompt.length, c.tokens().length, c.finish().name().toLowerCase(Locale.ROOT),
                        c.prefillPerSecond(), c.decodePerSecond(), opened.checkpoint().threads(),
                        Engine.vectorized() ? ", SIMD" : ", scalar");
                if (lm.draft().isPresent()) {
                    Speculation s = lm.speculation();
                    System.err.printf(Locale.ROOT, "[speculative: %d of %d draft tokens accepted (%.1f %%), %.2f tokens per target pass]%n",
                            s.accepted(), s.proposed(), 100 * s.acceptanceRate(), s.tokensPerTargetPass());
                }
            }
        }
        return 0;
    }

    private static void writeJson(PrintStream out, int[] prompt, Completion c, TextModel lm) throws java.io.IOException {
        JsonGenerator j = JsonOutput.generator(out);
        j.writeStartObject();
        j.writeArrayFieldStart("prompt_ids");
        for (int id : prompt) {
            j.writeNumber(id);
        }
        j.writeEndArray();
        j.writeArrayFieldStart("ids");
        for (int id : c.tokens()) {
            j.writeNumber(id);
        }
        j.writeEndArray();
        if (c.text() != null) {
            j.writeStringField("text", c.text());
        }
        j.writeStringField("finish_reason", c.finish().openAi());
        j.writeNumberField("prompt_tokens", c.promptTokens());
        j.writeNumberField("completion_tokens", c.tokens().length);
        j.writeNumberField("prefill_tokens_per_s", c.prefillPerSecond());
        j.writeNumberField("decode_tokens_per_s", c.decodePerSecond());
        j.writeStringField("model", c.size());
        if (lm.draft().isPresent()) {
            j.writeNumberField("draft_accepted", lm.speculation().accepted());
            j.writeNumberField("draft_proposed", lm.speculation().proposed());
        }
        j.writeEndObject();
        j.flush();
        out.println();
    }
}
