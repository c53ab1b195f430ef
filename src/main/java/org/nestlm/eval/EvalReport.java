package org.nestlm.eval;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nestlm.model.ConfigJson;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Evaluation results as a console table or as JSON (the form {@code nestlm eval --json} prints and the demo stores). */
public final class EvalReport {

    private EvalReport() {
    }

    public static ObjectNode toJson(List<ModelResult> results, TextEval.Settings settings) {
        ObjectNode root = ConfigJson.MAPPER.createObjectNode();
        ObjectNode method = root.putObject("method");
        method.put("context", settings.context()).put("stride", settings.stride()).put("max_tokens", settings.maxTokens())
                .put("text", "token cache of the text (documents each followed by the end-of-text separator), a separator in "
                        + "front, separator targets not scored; sliding windows; fp32 DJL model, masked for budgets")
                .put("blimp", "log P(good) > log P(bad), full-sentence log-probabilities conditioned on the separator");
        ArrayNode models = root.putArray("models");
        for (ModelResult r : results) {
            ObjectNode m = models.addObject();
            m.put("model", r.model());
            if (r.budget() == null) {
                m.putNull("budget");
            } else {
                m.put("budget", r.budget());
            }
            m.put("parameters", r.parameters());
            ArrayNode text = m.putArray("text");
            for (TextScore t : r.text()) {
                text.addObject().put("data", t.data()).put("tokens", t.tokens()).put("nll", t.nll()).put("loss", t.loss())
                        .put("perplexity", t.perplexity()).put("word_perplexity", t.wordPerplexity())
                        .put("bits_per_byte", t.bitsPerByte()).put("bytes", t.bytes()).put("words", t.words())
                        .put("capped", t.capped());
            }
            ArrayNode blimp = m.putArray("blimp");
            for (BlimpScore b : r.blimp()) {
                ObjectNode o = blimp.addObject().put("data", b.data()).put("pairs", b.pairs()).put("correct", b.correct())
                        .put("accuracy", b.accuracy()).put("mean_paradigm_accuracy", b.meanParadigmAccuracy());
                ObjectNode per = o.putObject("paradigms");
                for (Map.Entry<String, long[]> e : b.byParadigm().entrySet()) {
                    per.putObject(e.getKey()).put("accuracy", (double) e.getValue()[0] / e.getValue()[1])
                            .put("correct", e.getValue()[0]).put("pairs", e.getValue()[1]);
                }
            }
        }
        return root;
    }

    /** Reads back what {@link #toJson} wrote (the demo keeps one file per model so that a killed eval resumes). */
    public static List<ModelResult> fromJson(com.fasterxml.jackson.databind.JsonNode root, String source) throws java.io.IOException {
        if (root == null || !root.path("models").isArray()) {
            throw new java.io.IOException(source + ": expected an object with a 'models' array");
        }
        List<ModelResult> out = new java.util.ArrayList<>();
        for (com.fasterxml.jackson.databind.JsonNode m : root.get("models")) {
            List<TextScore> text = new java.util.ArrayList<>();
            for (com.fasterxml.jackson.databind.JsonNode t : m.path("text")) {
                text.add(new TextScore(t.path("data").asText(), t.path("nll").asDouble(), t.path("tokens").asLong(),
                        t.path("bytes").asDouble(), t.path("words").asDouble(), t.path("capped").asBoolean()));
            }
            List<BlimpScore> blimp = new java.util.ArrayList<>();
            for (com.fasterxml.jackson.databind.JsonNode b : m.path("blimp")) {
                Map<String, long[]> per = new java.util.LinkedHashMap<>();
                b.path("paradigms").fields().forEachRemaining(e -> per.put(e.getKey(),
                        new long[] {e.getValue().path("correct").asLong(), e.getValue().path("pairs").asLong()}));
                blimp.add(new BlimpScore(b.path("data").asText(), b.path("correct").asLong(), b.path("pairs").asLong(), per));
            }
            out.add(new ModelResult(m.path("model").asText(), m.path("budget").isNull() ? null : m.path("budget").asText(),
                    m.path("parameters").asLong(), text, blimp));
        }
        return out;
    }

    public static void printTable(PrintStream out, List<ModelResult> results, TextEval.Settings settings) {
        boolean anyText = results.stream().anyMatch(r -> !r.text().isEmpty());
        if (anyText) {
            out.printf(Locale.ROOT, "held-out text (sliding windows: context %d, stride %d%s)%n", settings.context(), settings.stride(),
                    settings.maxTokens() > 0 ? ", first " + settings.maxTokens() + " tokens" : "");
            out.printf(Locale.ROOT, "  %-28s %12s  %-16s %9s  %8s  %9s  %11s  %8s%n", "model", "parameters", "data", "tokens",
                    "loss", "ppl/token", "ppl/word", "bits/byte");
            for (ModelResult r : results) {
                for (TextScore t : r.text()) {
                    out.printf(Locale.ROOT, "  %-28s %,12d  %-16s %,9d  %8.4f  %9.2f  %11.2f  %8.4f%s%n", r.model(), r.parameters(),
                            t.data(), t.tokens(), t.loss(), t.perplexity(), t.wordPerplexity(), t.bitsPerByte(),
                            t.capped() ? "  (words, bytes prorated)" : "");
                }
            }
        }
        for (ModelResult r : results) {
            for (BlimpScore b : r.blimp()) {
                out.printf(Locale.ROOT, "minimal pairs: %s on %s — %,d of %,d correct, accuracy %.1f %% (mean over %d paradigms %.1f %%; "
                        + "chance 50 %%)%n", r.model(), b.data(), b.correct(), b.pairs(), 100 * b.accuracy(), b.byParadigm().size(),
                        100 * b.meanParadigmAccuracy());
                for (Map.Entry<String, long[]> e : b.byParadigm().entrySet()) {
                    out.printf(Locale.ROOT, "    %-48s %5.1f %%  (%d pairs)%n", e.getKey(), 100.0 * e.getValue()[0] / e.getValue()[1],
                            e.getValue()[1]);
                }
            }
        }
    }
}
