package org.nestlm.tokenizer;

import org.nestlm.data.Corpus;
import org.nestlm.data.Split;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The tokenizer stage: a byte-level BPE trained on one split of a corpus ({@link BpeTrainer}), written as a Hugging
 * Face tokenizer.json, with its size and, when trained on the train split, its compression of the validation split.
 */
public final class TokenizerTraining {

    private TokenizerTraining() {
    }

    /** Trains on split {@code split} of {@code corpus}, writes {@code out} (a tokenizer.json file) and reports on console. */
    public static BpeModel run(Corpus corpus, Split split, BpeTrainerConfig config, Path out, PrintStream console)
            throws IOException {
        long t0 = System.nanoTime();
        BpeModel model = BpeTrainer.train(corpus, split, config);
        TokenizerJson.write(model, out);
        double secs = (System.nanoTime() - t0) / 1e9;
        console.printf(Locale.ROOT, "%s: vocabulary %d (%d special, 256 bytes, %d merges), trained on the %s split "
                        + "of %s in %.1f s%n", out, model.vocabSize(), model.specials(), model.merges().size(),
                split.label(), corpus.description(), secs);
        if (model.vocabSize() < config.vocabSize()) {
            console.printf(Locale.ROOT, "  note: stopped at %d tokens: no pair occurs %d times any more%n",
                    model.vocabSize(), config.minFrequency());
        }
        if (split == Split.TRAIN) {
            reportCompression(corpus, model, console);
        }
        return model;
    }

    /** Bytes per token on the validation split: the number that matters when comparing vocabularies. */
    private static void reportCompression(Corpus c, BpeModel model, PrintStream console) throws IOException {
        BpeEncoder enc = new BpeEncoder(model);
        long[] bytes = new long[1];
        long[] tokens = new long[1];
        c.forEach(Split.VALIDATION, d -> {
            bytes[0] += d.text().getBytes(StandardCharsets.UTF_8).length;
            tokens[0] += enc.encode(d.text()).length;
        });
        if (tokens[0] > 0) {
            console.printf(Locale.ROOT, "  validation split: %d bytes -> %d tokens, %.3f bytes/token%n",
                    bytes[0], tokens[0], (double) bytes[0] / tokens[0]);
        }
    }
}
