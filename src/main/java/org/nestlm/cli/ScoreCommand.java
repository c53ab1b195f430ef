package org.nestlm.cli;

import org.nestlm.elastic.SubnetMasks;
import ai.djl.ndarray.NDArray;
import org.nestlm.model.Tensors;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.core.JsonGenerator;
import org.nestlm.model.Checkpoint;
import org.nestlm.model.NemotronH;
import org.nestlm.sizes.ElasticModel;
import org.nestlm.sizes.TrainedBudget;
import org.nestlm.tokenizer.TextTokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code nestlm score}: log-probabilities of a sequence under the DJL (fp32) model. */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = "Score a sequence: per-token log-probabilities, total NLL and perplexity (DJL, fp32).",
        footer = {"", "Examples:", "  nestlm score --model tiny --ids 1,2,3 --json --logits",
                "  nestlm score --model my-model --text 'The cat sat.'"})
final class ScoreCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Checkpoint directory.")
    Path model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--text", description = "Text to tokenize and score.")
        String text;
        @Option(names = "--file", description = "UTF-8 file to tokenize and score.")
        Path file;
        @Option(names = "--ids", description = "Comma-separated token ids (no tokenizer needed).")
        String ids;
    }

    @Option(names = "--tokenizer", description = "tokenizer.json (default: the one in the model directory).")
    Path tokenizer;

    @Option(names = "--json", description = "Print one JSON object: ids, logprobs, nll, perplexity[, logits].")
    boolean json;

    @Option(names = "--logits", description = "With --json: include the next-token logits of every position (n x vocab).")
    boolean logits;

    /** A nested size of an elastic checkpoint: scored by the masked forward over the full weights. */
    @Mixin
    SizeOptions size;

    @Override
    public Integer call() throws Exception {
        try (Checkpoint ckpt = Checkpoint.open(model); NDManager manager = NDManager.newBaseManager()) {
            TrainedBudget budget = size.resolve(ElasticModel.of(ckpt), Runtime.getRuntime().availableProcessors(), System.err);
            long[] ids = ids(ckpt);
            int vocab = ckpt.config().vocabSize();
            for (long id : ids) {
                if (id >= vocab) {
                    throw new UserException("token id " + id + " is outside the vocabulary of " + vocab);
                }
            }
            if (ids.length == 0) {
                throw new UserException("nothing to score: the input has no tokens");
            }
            try (NemotronH net = NemotronH.load(ckpt, manager)) {
                NDArray x = Tensors.of(manager, ids, new Shape(1, ids.length));
                // at a budget: the nested model's hard masks over the full weights = the sliced model (docs/METHOD.md §4.4)
                NDArray out = (budget == null ? net.forward(x)
                        : net.forward(x, SubnetMasks.hard(manager, ckpt.architecture(), budget.subnet())))
                        .get(new NDIndex("0"));                                         // [n, V]
                NDArray logProbs = out.logSoftmax(-1);
                int n = ids.length;
                double[] lp = new double[n - 1];
                float[] all = logProbs.toFloatArray();
                double nll = 0;
                for (int i = 0; i < n - 1; i++) {
                    lp[i] = all[(int) ((long) i * vocab + ids[i + 1])];
                    nll -= lp[i];
                }
                if (!Double.isFinite(nll)) {
                    // finite weights (checked at load) can still overflow fp32; never print NaN as a score
                    throw new UserException(model + ": the model's log-probabilities are not finite (total NLL "
                            + nll + "): its activations overflow fp32");
                }
                double ppl = n > 1 ? Math.exp(nll / (n - 1)) : Double.NaN;
                if (json) {
                    writeJson(System.out, ids, lp, nll, ppl, logits ? out.toFloatArray() : null, vocab);
                } else {
                    writeTable(System.out, ids, lp, nll, ppl);
                }
            }
        }
        return 0;
    }

    private long[] ids(Checkpoint ckpt) throws Exception {
        if (input.ids != null) {
            return CliSupport.parseIds(input.ids);
        }
        String text = input.text != null ? input.text : Files.readString(input.file, StandardCharsets.UTF_8);
        Path tok = tokenizer != null ? tokenizer : ckpt.tokenizer().orElseThrow(() ->
                new UserException(model + " has no tokenizer.json; pass --tokenizer FILE or score --ids"));
        try (TextTokenizer t = TextTokenizer.load(tok)) {
            return t.encode(text);
        }
    }

    private static void writeJson(PrintStream out, long[] ids, double[] lp, double nll, double ppl, float[] logits, int vocab)
            throws java.io.IOException {
        if (logits != null) {
            for (int i = 0; i < logits.length; i++) {
                if (!Float.isFinite(logits[i])) {
                    throw new UserException("logit " + (i % vocab) + " at position " + i / vocab + " is " + logits[i]
                            + ": the model's activations overflow fp32");
                }
            }
        }
        JsonGenerator g = JsonOutput.generator(out);
        g.writeStartObject();
        g.writeArrayFieldStart("ids");
        for (long id : ids) {
            g.writeNumber(id);
        }
        g.writeEndArray();
        g.writeArrayFieldStart("logprobs");
        for (double v : lp) {
            g.writeNumber(v);
        }
        g.writeEndArray();
        g.writeNumberField("nll", nll);
        if (Double.isNaN(ppl)) {
            g.writeNullField("perplexity");   // a single token has no next-token prediction to score
        } else if (Double.isInfinite(ppl)) {
            g.writeNullField("perplexity");   // exp of a finite but huge mean NLL overflows
        } else {
            g.writeNumberField("perplexity", ppl);
        }
        if (logits != null) {
            g.writeArrayFieldStart("logits");
            for (int i = 0; i < ids.length; i++) {
                g.writeStartArray();
                for (int j = 0; j < vocab; j++) {
                    g.writeNumber(logits[i * vocab + j]);
                }
                g.writeEndArray();
            }
            g.writeEndArray();
        }
        g.writeEndObject();
        g.flush();
        out.println();
    }

    private static void writeTable(PrintStream out, long[] ids, double[] lp, double nll, double ppl) {
        out.println("  pos      id     log p");
        out.printf(Locale.ROOT, "  %3d  %6d  %8s%n", 0, ids[0], "-");
        for (int i = 0; i < lp.length; i++) {
            out.printf(Locale.ROOT, "  %3d  %6d  %8.4f%n", i + 1, ids[i + 1], lp[i]);
        }
        out.printf(Locale.ROOT, "tokens %d   nll %.4f   mean nll %.4f   perplexity %.4f%n", ids.length, nll,
                lp.length == 0 ? Double.NaN : nll / lp.length, ppl);
    }
}
