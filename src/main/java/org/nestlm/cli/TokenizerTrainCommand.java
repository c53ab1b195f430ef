package org.nestlm.cli;

import org.nestlm.data.CacheDir;
import org.nestlm.data.Corpora;
import org.nestlm.data.Corpus;
import org.nestlm.data.Split;
import org.nestlm.model.Checkpoint;
import org.nestlm.tokenizer.BpeEncoder;
import org.nestlm.tokenizer.BpeModel;
import org.nestlm.tokenizer.BpeTrainer;
import org.nestlm.tokenizer.BpeTrainerConfig;
import org.nestlm.tokenizer.SpecialTokens;
import org.nestlm.tokenizer.TokenizerJson;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code nestlm tokenizer train}: byte-level BPE on a corpus, written as Hugging Face tokenizer.json. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a byte-level BPE tokenizer (GPT-2 pre-tokenizer and byte mapping) on the train split "
                + "of a corpus and write it as a Hugging Face tokenizer.json.",
                "Special tokens: 0 <|pad|>, 1 <|bos|>, 2 <|endoftext|>; bytes at 3..258; merges from 259."},
        footer = {"", "Examples:", "  nestlm tokenizer train --vocab 4096 --corpus default --out tokenizer.json",
                "  nestlm tokenizer train --vocab 8000 --corpus my-texts/ --corpus more.jsonl --out tok.json"})
final class TokenizerTrainCommand implements Callable<Integer> {

    @Option(names = "--vocab", required = true, description = "Vocabulary size, special tokens and bytes included (>= 259).")
    int vocab;

    @Option(names = "--corpus", required = true,
            description = "'default', 'brown', a text file, a directory (*.txt) or a JSONL file (field text); repeatable.")
    List<String> corpus;

    @Option(names = "--out", required = true, description = "Output tokenizer.json (a directory: DIR/tokenizer.json).")
    Path out;

    @Option(names = "--split", defaultValue = "train", description = "Split to train on (default: ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--min-frequency", defaultValue = "2", description = "Merge only pairs seen this often (default: ${DEFAULT-VALUE}).")
    int minFrequency;

    @Option(names = "--threads", description = "Threads for pre-tokenizing (default: all cores).")
    Integer threads;

    @Option(names = "--dir", description = "Cache directory holding the fetched corpus.")
    Path dir;

    @Option(names = "--quiet", description = "No progress bars.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        if (Files.isDirectory(out)) {
            out = out.resolve(Checkpoint.TOKENIZER_FILE);   // as --tokenizer DIR reads it
        }
        Corpus c = Corpora.open(corpus, CacheDir.resolve(dir));
        Split s = Split.parse(split);
        BpeTrainerConfig cfg = new BpeTrainerConfig(vocab, minFrequency, SpecialTokens.DEFAULT,
                threads != null ? threads : Runtime.getRuntime().availableProcessors(), !quiet);
        long t0 = System.nanoTime();
        BpeModel model = BpeTrainer.train(c, s, cfg);
        TokenizerJson.write(model, out);
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf(Locale.ROOT, "%s: vocabulary %d (%d special, 256 bytes, %d merges), trained on the %s split "
                        + "of %s in %.1f s%n", out, model.vocabSize(), model.specials(), model.merges().size(),
                s.label(), c.description(), secs);
        if (model.vocabSize() < vocab) {
            System.out.printf(Locale.ROOT, "  note: stopped at %d tokens: no pair occurs %d times any more%n",
                    model.vocabSize(), minFrequency);
        }
        if (s == Split.TRAIN) {
            reportCompression(c, model);
        }
        return 0;
    }

    /** Bytes per token on the validation split: the number that matters when comparing vocabularies. */
    private static void reportCompression(Corpus c, BpeModel model) throws java.io.IOException {
        BpeEncoder enc = new BpeEncoder(model);
        long[] bytes = new long[1];
        long[] tokens = new long[1];
        c.forEach(Split.VALIDATION, d -> {
            bytes[0] += d.text().getBytes(StandardCharsets.UTF_8).length;
            tokens[0] += enc.encode(d.text()).length;
        });
        if (tokens[0] > 0) {
            System.out.printf(Locale.ROOT, "  validation split: %d bytes -> %d tokens, %.3f bytes/token%n",
                    bytes[0], tokens[0], (double) bytes[0] / tokens[0]);
        }
    }
}
