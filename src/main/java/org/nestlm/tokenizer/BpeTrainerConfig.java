package org.nestlm.tokenizer;

import java.util.List;

/**
 * Settings of {@link BpeTrainer}.
 *
 * @param vocabSize     total vocabulary: special tokens + 256 bytes + merges; training stops earlier only when no
 *                      pair occurs {@code minFrequency} times
 * @param minFrequency  a pair must occur at least this often to be merged (2: never merge a one-off)
 * @param specialTokens special tokens at ids 0.. in order ({@link SpecialTokens#DEFAULT})
 * @param threads       threads for pre-tokenizing and counting; the merge loop is sequential
 * @param progress      show progress bars on standard error
 */
public record BpeTrainerConfig(int vocabSize, int minFrequency, List<String> specialTokens, int threads,
                               boolean progress) {

    public BpeTrainerConfig {
        specialTokens = List.copyOf(specialTokens);
        if (vocabSize < specialTokens.size() + 256) {
            throw new IllegalArgumentException("--vocab must be at least " + (specialTokens.size() + 256)
                    + " (" + specialTokens.size() + " special tokens + 256 bytes), got " + vocabSize);
        }
        if (minFrequency < 1) {
            throw new IllegalArgumentException("minimum pair frequency must be at least 1, got " + minFrequency);
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        if (specialTokens.stream().distinct().count() != specialTokens.size()) {
            throw new IllegalArgumentException("special tokens must be distinct: " + specialTokens);
        }
    }

    /** The nestlm defaults for a vocabulary of {@code vocabSize}: pad / bos / eos, all cores, progress on. */
    public static BpeTrainerConfig of(int vocabSize) {
        return new BpeTrainerConfig(vocabSize, 2, SpecialTokens.DEFAULT, Runtime.getRuntime().availableProcessors(),
                true);
    }

    public BpeTrainerConfig withProgress(boolean on) {
        return new BpeTrainerConfig(vocabSize, minFrequency, specialTokens, threads, on);
    }

    public BpeTrainerConfig withThreads(int n) {
        return new BpeTrainerConfig(vocabSize, minFrequency, specialTokens, n, progress);
    }
}
