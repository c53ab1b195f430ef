package org.nestlm.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import org.nestlm.infer.Engine;
import org.nestlm.infer.Generation;
import org.nestlm.infer.LanguageModel;
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

/** {@code nestlm generate}: continue a prompt with the pure-Java engine, streaming the text. */
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
    Sampling sampling;

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

        /** Opens {@code model} at {@code size}'s budget or limits (chosen size printed to stderr), with the draft. */
        LanguageModel open(Path model, Path tokenizer, int threads, SizeOptions size) throws java.io.IOException {
            String budget = size.budget(model, threads, System.err);
            if (draftTokens < 1) {
                throw new UserException("--draft-tokens must be at least 1, got " + draftTokens);
            }
            boolean q8 = quantize(quantize);
            LanguageModel lm;
            try {
                lm = LanguageModel.open(model, tokenizer, threads, budget, draftBudget, q8);
            } catch (IllegalArgumentException e) {
                if (q8 && e.getMessage() != null && e.getMessage().startsWith("--quantize")) {
                    throw new UserException(e.getMessage());
                }
                throw e;
            }
            lm.draftTokens(draftTokens);
            return lm;
        }
    }

    /** Sampling options shared by generate and chat. */
    static final class Sampling {
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

        SamplingParams params(List<String> extraStops) {
            List<String> stops = new java.util.ArrayList<>(stop == null ? List.of() : stop);
            stops.addAll(extraStops);
            try {
                return new SamplingParams(maxTokens, temperature, topK, topP, seed, stops, ignoreEos);
            } catch (IllegalArgumentException e) {
                throw new UserException(e.getMessage().replace("max_tokens", "--max-tokens").replace("top_k", "--top-k")
                        .replace("top_p", "--top-p").replace("temperature", "--temperature"));
            }
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
        SamplingParams params = sampling.params(List.of());
        try (LanguageModel lm = elastic.open(model, tokenizer, threads(threads), size)) {
            int[] prompt;
            if (input.ids != null) {
                long[] ids = CliSupport.parseIds(input.ids);
                prompt = new int[ids.length];
                for (int i = 0; i < ids.length; i++) {
                    if (ids[i] >= lm.engine().vocabSize()) {
                        throw new UserException("--ids: token id " + ids[i] + " is outside the vocabulary of "
                                + lm.engine().vocabSize());
                    }
                    prompt[i] = (int) ids[i];
                }
            } else {
                if (!lm.hasTokenizer()) {
                    throw new UserException(model + " has no tokenizer.json; pass --tokenizer FILE or use --ids");
                }
                prompt = lm.text().encode(input.prompt);
                if (prompt.length == 0) {
                    throw new UserException("--prompt: the text has no tokens");
                }
            }
            if (!params.stop().isEmpty() && !lm.hasTokenizer()) {
                throw new UserException("--stop needs a tokenizer (the model has no tokenizer.json)");
            }
            if (prompt.length > lm.engine().contextLimit()) {
                throw new UserException("the prompt has " + prompt.length + " tokens, more than the context limit of "
                        + lm.engine().contextLimit());
            }
            PrintStream out = System.out;
            Generation g;
            try {
                g = lm.generator().generate(prompt, params, json ? null : (token, delta) -> {
                    if (delta != null) {
                        out.print(delta);
                    } else if (token >= 0) {
                        out.print(token + " ");
                    }
                    out.flush();
                });
            } catch (IllegalArgumentException e) {
                throw new UserException(e.getMessage());
            }
            if (json) {
                writeJson(out, g, lm);
            } else {
                out.println();
                System.err.printf(Locale.ROOT, "[%d prompt tokens, %d generated (%s); prefill %.1f tok/s, decode %.1f tok/s, %d threads%s]%n",
                        prompt.length, g.tokens().length, g.finish().name().toLowerCase(Locale.ROOT),
                        g.prefillTokensPerSecond(), g.decodeTokensPerSecond(), lm.engine().threads(),
                        Engine.vectorized() ? ", SIMD" : ", scalar");
                if (lm.draft() != null) {
                    System.err.printf(Locale.ROOT, "[speculative: %d of %d draft tokens accepted (%.1f %%), %.2f tokens per target pass]%n",
                            lm.speculativeStats().accepted(), lm.speculativeStats().proposed(),
                            100 * lm.speculativeStats().acceptanceRate(), lm.speculativeStats().tokensPerTargetPass());
                }
            }
        }
        return 0;
    }

    private static void writeJson(PrintStream out, Generation g, LanguageModel lm) throws java.io.IOException {
        JsonGenerator j = JsonOutput.generator(out);
        j.writeStartObject();
        j.writeArrayFieldStart("prompt_ids");
        for (int id : g.prompt()) {
            j.writeNumber(id);
        }
        j.writeEndArray();
        j.writeArrayFieldStart("ids");
        for (int id : g.tokens()) {
            j.writeNumber(id);
        }
        j.writeEndArray();
        if (g.text() != null) {
            j.writeStringField("text", g.text());
        }
        j.writeStringField("finish_reason", g.finish().openAi());
        j.writeNumberField("prompt_tokens", g.prompt().length);
        j.writeNumberField("completion_tokens", g.tokens().length);
        j.writeNumberField("prefill_tokens_per_s", g.prefillTokensPerSecond());
        j.writeNumberField("decode_tokens_per_s", g.decodeTokensPerSecond());
        j.writeStringField("model", lm.name());
        if (lm.draft() != null) {
            j.writeNumberField("draft_accepted", lm.speculativeStats().accepted());
            j.writeNumberField("draft_proposed", lm.speculativeStats().proposed());
        }
        j.writeEndObject();
        j.flush();
        out.println();
    }
}
