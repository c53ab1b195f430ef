package org.nestlm.demo;

import com.fasterxml.jackson.databind.JsonNode;
import org.nestlm.sizes.ElasticJson;
import org.nestlm.eval.EvalData;
import org.nestlm.eval.ModelResult;
import org.nestlm.io.AtomicFiles;
import org.nestlm.model.ConfigJson;
import org.nestlm.train.Charts;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code report.md} of a demo run, with {@code loss_vs_params.png} (held-out loss against parameters, every method)
 * and {@code val_curves.png} (held-out loss during distillation: each budget of the elastic run and each
 * Minitron-style run), the results table, Table 2 (tokens) and Table 3 (memory) at our scale, and the acceptance
 * checks computed from the measurements; the same summary goes to the console. Over several seeds every row is one
 * method and budget with the mean and sample deviation of its held-out loss and the 95 % interval of the mean, the
 * other columns are means, the loss plot carries the intervals as error bars, and the checks are made on the means.
 */
public final class Report {

    public static final String FILE = "report.md";

    /** What the console and tests need: the results rows, the checks and the verdict. */
    public record Summary(String markdownTable, List<Acceptance.Check> checks, boolean accepted) {
    }

    private Report() {
    }

    public static Summary write(Path out, DemoPlan plan, DemoState state, List<Long> seeds, List<Demo.Row> rows,
                                List<EvalData> sets, Map<Demo.Row, ModelResult> results, PrintStream console) throws IOException {
        String heldOut = sets.getFirst().label();
        FamilyCost cost = FamilyCost.of(plan);
        Path first = Demo.seedRoot(out, seeds.getFirst());   // curves and memory: the first seed's runs
        boolean several = seeds.size() > 1;
        // rows of the same method and budget, one per seed, in seed order
        Map<String, List<Demo.Row>> groups = new LinkedHashMap<>();
        for (Demo.Row r : rows) {
            groups.computeIfAbsent(r.method() + " " + r.budget(), k -> new ArrayList<>()).add(r);
        }
        // --- results table
        StringBuilder table = new StringBuilder();
        List<String> extra = sets.subList(1, sets.size()).stream().map(EvalData::label).toList();
        table.append("| method | budget | parameters | held-out loss (").append(heldOut)
                .append(several ? ", mean ± sd over " + seeds.size() + " seeds) | 95 % interval" : ")")
                .append(" | ppl/token | bits/byte |");
        for (String e : extra) {
            table.append(' ').append(e.equals("blimp") ? "BLiMP accuracy" : e + " ppl/word").append(" |");
        }
        table.append("\n|---|---|---|---|---|---|").append(several ? "---|" : "").append("---|".repeat(extra.size())).append('\n');
        for (List<Demo.Row> g : groups.values()) {
            Demo.Row r = g.getFirst();
            List<ModelResult> ms = g.stream().map(results::get).toList();
            SeedStats loss = stats(ms, m -> m.text(heldOut).loss());
            table.append(String.format(Locale.ROOT, "| %s | %s | %,d | %s |%s %.2f | %.4f |", label(r.method()), r.budget(),
                    Math.round(stats(ms, m -> (double) m.parameters()).mean()), loss.format(),
                    several ? " " + loss.interval() + " |" : "", stats(ms, m -> m.text(heldOut).perplexity()).mean(),
                    stats(ms, m -> m.text(heldOut).bitsPerByte()).mean()));
            for (String e : extra) {
                if (e.equals("blimp")) {
                    table.append(ms.getFirst().blimp().isEmpty() ? " – |" : String.format(Locale.ROOT, " %.1f %% |",
                            100 * stats(ms, m -> m.blimp().getFirst().accuracy()).mean()));
                } else {
                    table.append(ms.getFirst().text(e) == null ? " – |" : String.format(Locale.ROOT, " %.1f |",
                            stats(ms, m -> m.text(e).wordPerplexity()).mean()));
                }
            }
            table.append('\n');
        }
        // --- acceptance
        List<Acceptance.Size> sizes = new ArrayList<>();
        for (String b : plan.derived()) {
            sizes.add(new Acceptance.Size(b, loss(groups, results, Demo.ELASTIC, b, heldOut), loss(groups, results, Demo.CUT, b, heldOut),
                    loss(groups, results, Demo.MINITRON, b, heldOut), loss(groups, results, Demo.SCRATCH, b, heldOut)));
        }
        List<Acceptance.Check> checks = Acceptance.evaluate(sizes, cost);
        boolean ok = Acceptance.all(checks);
        // --- plots
        Map<String, Charts.Series> lvp = new LinkedHashMap<>();
        for (String method : List.of(Demo.ELASTIC, Demo.INTERPOLATED, Demo.CUT, Demo.MINITRON, Demo.SCRATCH, Demo.PARENT)) {
            List<Double> x = new ArrayList<>(), y = new ArrayList<>(), err = new ArrayList<>();
            for (List<Demo.Row> g : groups.values()) {
                if (g.getFirst().method().equals(method)) {
                    List<ModelResult> ms = g.stream().map(results::get).toList();
                    SeedStats l = stats(ms, m -> m.text(heldOut).loss());
                    x.add(stats(ms, m -> (double) m.parameters()).mean());
                    y.add(l.mean());
                    err.add(l.n() < 2 ? 0.0 : l.halfWidth());
                }
            }
            lvp.put(label(method), new Charts.Series(x, y, true, several ? err : null));
        }
        Charts.lines(out.resolve("loss_vs_params.png"), "held-out loss vs parameters (" + heldOut + ")"
                + (several ? "; bars: 95 % CI, " + seeds.size() + " seeds" : ""), "parameters",
                "loss (nats / token)", lvp);
        Charts.lines(out.resolve("val_curves.png"), "held-out loss while distilling: elastic budgets vs Minitron-style runs",
                "tokens trained (elastic: whole run)", "validation loss (nats / token)", curves(first, plan));
        // --- memory
        List<Long> params = new ArrayList<>();
        for (String b : plan.family().budgets()) {
            params.add(results.get(groups.get(Demo.ELASTIC + " " + b).getFirst()).parameters());
        }
        long meta = sizeOf(first.resolve("elastic").resolve(ElasticJson.FILE_NAME)) + sizeOf(first.resolve("elastic").resolve(ElasticJson.ROUTER_FILE));
        FamilyCost.Memory mem = FamilyCost.memory(params, meta);
        long slicedBytes = 0;
        for (String b : plan.derived()) {
            slicedBytes += sizeOf(first.resolve("sliced").resolve("elastic-" + b).resolve("model.safetensors"));
        }

        StringBuilder md = new StringBuilder();
        md.append("# nestlm demo report (plan '").append(plan.name()).append("')\n\n");
        md.append("Corpus: `").append(String.join(" ", state.corpus())).append("`. Parent: preset `").append(plan.parent().preset())
                .append("`, ").append(String.format(Locale.ROOT, "%,d", plan.parent().tokens())).append(" pretraining tokens. ")
                .append("Held-out loss: mean next-token NLL on `").append(heldOut).append("` (first ")
                .append(String.format(Locale.ROOT, "%,d", plan.evaluation().textTokens())).append(" tokens, sliding windows of ")
                .append(2 * plan.windows().seqLen()).append(" with stride ").append(plan.windows().seqLen())
                .append("; fp32; elastic budgets by their masks over the one checkpoint).")
                .append(several ? " Seeds " + seeds + ": the parent once; the elastic run and every baseline once per seed"
                        + " (budget draws, data order, initialisation; with learned routing also the router noise)." : "").append("\n\n");
        md.append("## Results\n\n").append(table).append('\n');
        md.append("Methods: **elastic** — the nested sizes of one elastic run (sub-models searched on the parent, KD from the frozen parent); "
                + "**(a) cut** — the same sub-model cut from the parent with no training; **(b) Minitron-style** — that cut "
                + "distilled alone from the same parent for ").append(String.format(Locale.ROOT, "%,d", plan.baselines().minitronTokens()))
                .append(" tokens; **(c) from scratch** — the same architecture pretrained for ")
                .append(String.format(Locale.ROOT, "%,d", plan.baselines().scratchTokens())).append(" tokens")
                .append(plan.baselines().scratchTokens() == plan.parent().tokens() ? ", as the parent was" : String.format(Locale.ROOT,
                        " (the parent had %,d)", plan.parent().tokens())).append(".\n\n");
        md.append("![held-out loss against parameters](loss_vs_params.png)\n\n");
        md.append("![validation loss while distilling](val_curves.png)\n\n");
        md.append("Training curves: parent `parent/loss.png`; elastic run `elastic/kd.png` (KL per budget) and `elastic/val.png` "
                + "(held-out loss per budget); Minitron-style runs `baselines/minitron-B/kd.png`; from scratch "
                + "`baselines/scratch-B/loss.png`.\n\n");
        md.append("## Table 2 at our scale: tokens to derive the ").append(String.join(" and ", plan.derived()))
                .append(" models from the parent\n\n");
        md.append("| method | exploratory | final | total | vs elastic |\n|---|---|---|---|---|\n");
        md.append(String.format(Locale.ROOT, "| (c) pretraining each from scratch | 0 | %,d | %,d | %.1f× |%n", cost.scratch(), cost.scratch(),
                (double) cost.scratch() / cost.elastic()));
        md.append(String.format(Locale.ROOT, "| (b) Minitron-style, each distilled alone | 0 (the elastic run's searched architectures) | %,d | %,d | %.1f× |%n",
                cost.minitron(), cost.minitron(), (double) cost.minitron() / cost.elastic()));
        md.append(String.format(Locale.ROOT, "| Nemotron Elastic (one run, every size) | 0 | %,d | %,d | 1× |%n%n", cost.elastic(), cost.elastic()));
        md.append(String.format(Locale.ROOT, "Common to all: the parent's %,d pretraining tokens and the importance ranking's %,d "
                + "forward-only calibration tokens. Adding a size costs (b) and (c) another run; the elastic run's cost is the same "
                + "for any number of budgets. Not counted: the elastic run chooses each size by a search of the parent's cuts "
                + "(forward passes on a few thousand training tokens per candidate; (b) and (c) reuse its choices), and it distills "
                + "the full model beside every smaller draw on the same windows, so it makes up to two student passes per "
                + "window (docs/METHOD.md §6.6, §7.3).%n%n", plan.parent().tokens(), (long) plan.importanceSamples() * plan.windows().seqLen()));
        md.append("## Table 3 at our scale: deployment memory (BF16 weights)\n\n| configuration | models | bytes |\n|---|---|---|\n");
        md.append(String.format(Locale.ROOT, "| one elastic checkpoint (+ elastic.json / router) | %s | %,d (+ %,d) |%n",
                String.join(" + ", plan.family().budgets()), mem.elasticBytes(), mem.metadataBytes()));
        md.append(String.format(Locale.ROOT, "| separate checkpoints | %s | %,d |%n%n", String.join(" + ", plan.family().budgets()), mem.separateBytes()));
        md.append(String.format(Locale.ROOT, "The elastic checkpoint needs %.0f %% less memory than separate checkpoints of the "
                + "same sizes (2 bytes per parameter; the sliced BF16 files of the derived sizes measure %,d bytes in all).%n%n",
                100 * mem.saving(), slicedBytes));
        md.append("## Acceptance").append(several ? " (on the means over " + seeds.size() + " seeds)" : "").append("\n\n");
        for (Acceptance.Check c : checks) {
            md.append("- ").append(c.pass() ? "**pass** " : "**FAIL** ").append(c.text()).append('\n');
        }
        md.append('\n').append(ok ? "All checks hold on this run.\n" : "Not every check holds on this run; the failing ones are "
                + "marked above. These are tiny models trained for minutes: the numbers measure this run, nothing more.\n");
        md.append("\n## Stage timings\n\n| stage | seconds |\n|---|---|\n");
        Map<String, Double> st = state.stages();
        double total = 0;
        for (Map.Entry<String, Double> e : st.entrySet()) {
            md.append(String.format(Locale.ROOT, "| %s | %.1f |%n", e.getKey(), e.getValue()));
            total += e.getValue();
        }
        md.append(String.format(Locale.ROOT, "| **total** | **%.1f** |%n", total));
        AtomicFiles.writeString(out.resolve(FILE), md.toString());

        console.println();
        console.println("results (" + heldOut + "):");
        console.print(table);
        console.printf(Locale.ROOT, "tokens for the derived sizes: elastic %,d; (b) Minitron-style %,d; (c) from scratch %,d%n",
                cost.elastic(), cost.minitron(), cost.scratch());
        console.printf(Locale.ROOT, "memory (BF16): one elastic checkpoint %,d bytes vs separate %,d bytes (%.0f %% less)%n",
                mem.elasticBytes() + mem.metadataBytes(), mem.separateBytes(), 100 * mem.saving());
        for (Acceptance.Check c : checks) {
            console.println((c.pass() ? "  pass  " : "  FAIL  ") + c.text());
        }
        console.printf(Locale.ROOT, "stages took %.1f s in all%n", total);
        return new Summary(table.toString(), checks, ok);
    }

    static String label(String method) {
        return switch (method) {
            case Demo.ELASTIC -> "elastic";
            case Demo.INTERPOLATED -> "elastic, interpolated (untrained budget)";
            case Demo.CUT -> "(a) cut";
            case Demo.MINITRON -> "(b) Minitron-style";
            case Demo.SCRATCH -> "(c) from scratch";
            default -> "parent";
        };
    }

    /** The held-out loss of {@code method} at {@code budget}, one value per seed. */
    private static SeedStats loss(Map<String, List<Demo.Row>> groups, Map<Demo.Row, ModelResult> results, String method,
                                  String budget, String data) {
        return stats(groups.get(method + " " + budget).stream().map(results::get).toList(), m -> m.text(data).loss());
    }

    private static SeedStats stats(List<ModelResult> ms, java.util.function.ToDoubleFunction<ModelResult> f) {
        return new SeedStats(ms.stream().map(m -> f.applyAsDouble(m)).toList());
    }

    private static long sizeOf(Path p) throws IOException {
        return Files.isRegularFile(p) ? Files.size(p) : 0;
    }

    /** Validation loss per budget of the elastic run and of each Minitron-style run, by tokens trained. */
    private static Map<String, Charts.Series> curves(Path out, DemoPlan plan) throws IOException {
        Map<String, Charts.Series> s = new LinkedHashMap<>();
        long step = (long) plan.windows().seqLen() * plan.windows().batch();
        List<JsonNode> elastic = log(out.resolve("elastic").resolve("log.jsonl"));
        for (String b : plan.family().budgets()) {
            List<Double> x = new ArrayList<>(), y = new ArrayList<>();
            for (JsonNode e : elastic) {
                if (e.has("val_" + b)) {
                    x.add(e.path("step").asDouble() * step);
                    y.add(e.get("val_" + b).asDouble());
                }
            }
            s.put("elastic " + b, new Charts.Series(x, y, false));
        }
        for (String b : plan.derived()) {
            List<Double> x = new ArrayList<>(), y = new ArrayList<>();
            for (JsonNode e : log(out.resolve("baselines").resolve("minitron-" + b).resolve("log.jsonl"))) {
                if (e.has("val_loss")) {
                    x.add(e.path("tokens").asDouble());
                    y.add(e.get("val_loss").asDouble());
                }
            }
            s.put("(b) Minitron-style " + b, new Charts.Series(x, y, true));
        }
        return s;
    }

    private static List<JsonNode> log(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        if (!Files.isRegularFile(file)) {
            return out;
        }
        try (Stream<String> lines = Files.lines(file)) {
            for (String l : lines.toList()) {
                if (!l.isBlank()) {
                    out.add(ConfigJson.MAPPER.readTree(l));
                }
            }
        }
        return out;
    }
}
