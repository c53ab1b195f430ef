package org.nestlm.cli;

import org.nestlm.data.CacheDir;
import org.nestlm.sizes.TrainedBudget;
import org.nestlm.eval.EvalData;
import org.nestlm.eval.EvalReport;
import org.nestlm.eval.Evaluator;
import org.nestlm.eval.ModelResult;
import org.nestlm.eval.ModelScorer;
import org.nestlm.eval.TextEval;
import org.nestlm.model.Checkpoint;
import org.nestlm.sizes.ElasticBudgets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code nestlm eval}: held-out perplexity, bits per byte and minimal-pair accuracy of a model or its budgets. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Evaluate a checkpoint (or nested sizes of an elastic one) on held-out data: per-token perplexity, "
                + "per-word perplexity and bits per byte of text (sliding windows), BLiMP minimal-pair accuracy.",
                "Data: wikitext2 (../shared/data/wikitext-2/valid.txt, scored as is), wikitext2:FILE, blimp "
                        + "(../shared/data/blimp), default:test, brown:test (fetched corpora), a text file, a .jsonl file "
                        + "or a directory of minimal pairs."},
        footer = {"", "Examples:", "  nestlm eval --model parent --data wikitext2 --data default:test",
                "  nestlm eval --model elastic --all-budgets --data default:test --data blimp --json",
                "  nestlm eval --model elastic --budget 0.5 --data my.txt --context 512 --stride 256"})
final class EvalCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Checkpoint directory (a plain or an elastic checkpoint).")
    Path model;

    @Option(names = "--budget", description = "A nested size of an elastic checkpoint (masked forward over the full weights).")
    String budget;

    @Option(names = "--all-budgets", description = "Every trained budget of an elastic checkpoint.")
    boolean allBudgets;

    @Option(names = "--data", required = true, description = "Held-out set (see above); repeatable.")
    List<String> data;

    @Option(names = "--tokenizer", description = "tokenizer.json (default: the one beside the weights).")
    Path tokenizer;

    @Option(names = "--context", defaultValue = "256", description = "Tokens per scoring window (default ${DEFAULT-VALUE}).")
    int context;

    @Option(names = "--stride", defaultValue = "128", description = "Window advance; each token keeps >= context - stride tokens of context (default ${DEFAULT-VALUE}).")
    int stride;

    @Option(names = "--batch", defaultValue = "8", description = "Windows per forward pass (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--max-tokens", defaultValue = "0", description = "Score only the first N tokens of each text, 0 = all (default ${DEFAULT-VALUE}).")
    long maxTokens;

    @Option(names = "--max-pairs", defaultValue = "0", description = "Only the first N pairs of every BLiMP paradigm, 0 = all (default ${DEFAULT-VALUE}).")
    int maxPairs;

    @Option(names = "--cache-dir", description = "Token cache directory (default: the nestlm cache).")
    Path cacheDir;

    @Option(names = "--json", description = "Print one JSON object instead of the table.")
    boolean json;

    @Option(names = "--quiet", description = "No progress bars.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        if (budget != null && allBudgets) {
            throw new UserException("--budget and --all-budgets exclude each other");
        }
        TextEval.Settings settings = new TextEval.Settings(context, stride, batch, maxTokens);
        List<EvalData> sets = new ArrayList<>();
        for (String d : data) {
            sets.add(EvalData.parse(d));
        }
        List<String> budgets = new ArrayList<>();
        if (allBudgets) {
            if (!ElasticBudgets.isElastic(model)) {
                throw new UserException(model + ": --all-budgets needs an elastic checkpoint (no elastic.json here)");
            }
            try (Checkpoint c = Checkpoint.open(model)) {
                for (TrainedBudget b : ElasticBudgets.trained(model, c.architecture())) {
                    budgets.add(b.budget());
                }
            }
        } else {
            budgets.add(budget);
        }
        Evaluator ev = new Evaluator(CacheDir.resolve(cacheDir), settings, maxPairs, !quiet && !json);
        List<ModelResult> results = new ArrayList<>();
        for (String b : budgets) {
            try (ModelScorer s = ModelScorer.open(model, b)) {
                Path tok = tokenizer != null ? tokenizer : s.tokenizer().orElseThrow(() ->
                        new UserException(model + " has no tokenizer.json; pass --tokenizer FILE"));
                results.add(ev.evaluate(s, b, tok, sets));
            }
        }
        if (json) {
            System.out.println(JsonOutput.write(EvalReport.toJson(results, settings), true));
        } else {
            EvalReport.printTable(System.out, results, settings);
        }
        return 0;
    }
}
