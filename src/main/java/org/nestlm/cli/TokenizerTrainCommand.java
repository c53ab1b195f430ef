package org.nestlm.cli;

import org.nestlm.data.CacheDir;
import org.nestlm.data.Corpora;
import org.nestlm.data.Corpus;
import org.nestlm.data.Split;
import org.nestlm.model.Checkpoint;
import org.nestlm.tokenizer.BpeTrainerConfig;
import org.nestlm.tokenizer.SpecialTokens;
import org.nestlm.tokenizer.TokenizerTraining;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code nestlm tokenizer train}: the flags of the tokenizer stage ({@link TokenizerTraining}). */
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
        TokenizerTraining.run(c, s, cfg, out, System.out);
        return 0;
    }
}
