package org.nestlm.demo;

import org.nestlm.data.Corpora;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/**
 * The sizes of every stage of a demo run, in named groups. Three plans, each sized from measured throughput on 2
 * cores (docs/TRAINING.md, Demo plans):
 * <ul>
 *   <li>{@link #standard()} ({@code default}): the {@code tiny} parent on the default corpus, about 5 minutes;</li>
 *   <li>{@link #quick()}: the same stages on the built-in corpus in about a minute (CI);</li>
 *   <li>{@link #reference()}: a parent large enough for held-out judges (WikiText-2, BLiMP), about 90 minutes with
 *       {@code --seeds 3}.</li>
 * </ul>
 *
 * @param name              {@code default}, {@code quick} or {@code reference}
 * @param text              what the tokenizer and every model train on
 * @param windows           the training window and batch of pretraining, distillation and validation
 * @param parent            the parent's pretraining
 * @param importanceSamples calibration sequences of the importance ranking (of {@code windows.seqLen} tokens)
 * @param family            the one elastic run
 * @param baselines         the token counts of baselines (b) and (c), per size and seed
 * @param evaluation        how much held-out data each model is scored on
 */
public record DemoPlan(String name, Text text, Windows windows, Parent parent, int importanceSamples, Family family,
                       Baselines baselines, Evaluation evaluation) {

    /**
     * @param corpus what to train on: a fetched corpus ({@code default} or {@code sentences}, docs/CORPORA.md §1.1;
     *               the built-in corpus when the fetch fails) or {@link #BUILTIN}, the built-in corpus always
     * @param vocab  tokenizer vocabulary (the models' vocab_size follows it)
     */
    public record Text(String corpus, int vocab) {

        public static final String BUILTIN = "builtin";

        public boolean builtinOnly() {
            return corpus.equals(BUILTIN);
        }
    }

    /**
     * @param seqLen tokens per training and validation window
     * @param batch  windows per optimizer step
     */
    public record Windows(int seqLen, int batch) {
    }

    /**
     * @param preset    parent model preset
     * @param tokens    pretraining tokens
     * @param evalEvery steps between validations (and checkpoints) of pretraining, the parent's and (c)'s
     * @param warmup    linear warm-up steps of pretraining
     */
    public record Parent(String preset, long tokens, int evalEvery, int warmup) {
    }

    /**
     * @param budgets   elastic budgets, largest first
     * @param tokens    student tokens of the one elastic run (both stages)
     * @param lr        learning rate of the elastic run and of the Minitron-style baselines (b)
     * @param warmup    warm-up steps of both
     * @param evalEvery steps between validations of both
     * @param stage2Split stage-2 micro-batches per stage-1-sized micro-batch of the elastic run (1: none; see
     *                    {@code ElastifyConfig.Stages}): bounds the memory of a pass of the long stage-2 windows
     */
    public record Family(List<String> budgets, long tokens, double lr, int warmup, int evalEvery, int stage2Split) {
        public Family {
            budgets = List.copyOf(budgets);
        }
    }

    /**
     * @param minitronTokens distillation tokens of each Minitron-style run (b)
     * @param scratchTokens  pretraining tokens of each from-scratch run (c)
     */
    public record Baselines(long minitronTokens, long scratchTokens) {
    }

    /**
     * @param textTokens held-out tokens scored per model and text set (0 = all)
     * @param blimpPairs BLiMP pairs per paradigm (0 = all)
     */
    public record Evaluation(long textTokens, int blimpPairs) {
    }

    /** The 3-budget family every plan trains. */
    static final List<String> BUDGETS = List.of("1.0", "0.75", "0.5");

    /** {@code tiny} on 1 M tokens of the default corpus; (c) gets the parent's tokens. */
    public static DemoPlan standard() {
        return new DemoPlan("default", new Text(Corpora.DEFAULT, 512), new Windows(128, 8), new Parent("tiny", 1_000_000, 100, 30), 64,
                new Family(BUDGETS, 240_000, 1e-3, 10, 40, 1), new Baselines(150_000, 1_000_000), new Evaluation(40_000, 100));
    }

    /** The default plan's stages at CI size, on the built-in corpus. */
    public static DemoPlan quick() {
        return new DemoPlan("quick", new Text(Text.BUILTIN, 320), new Windows(64, 8), new Parent("tiny", 20_480, 20, 5), 8,
                new Family(BUDGETS, 6_144, 1e-3, 2, 8, 1), new Baselines(6_144, 20_480), new Evaluation(4_000, 20));
    }

    /**
     * A larger parent for held-out judges: {@code mini} (vocabulary 4,096, hidden 128, 11 layers, 2.4 M parameters) on
     * 256-token windows, 5 M tokens of {@code sentences} (2.1 passes over its 2.35 M-token train split at 3.28 bytes
     * per token). Sized for about 90 minutes with {@code --seeds 3} on 2 cores from measured throughput (pretraining
     * {@code mini} about 3,300 tokens/s): (c) gets a fifth of the parent's tokens per size and seed, and every model
     * is scored on the first 40,000 tokens of each text set and 200 pairs per BLiMP paradigm; the report says so.
     */
    public static DemoPlan reference() {
        return new DemoPlan("reference", new Text(Corpora.SENTENCES, 4096), new Windows(256, 16), new Parent("mini", 5_000_000, 100, 50), 64,
                new Family(BUDGETS, 400_000, 1e-3, 10, 40, 4), new Baselines(250_000, 1_000_000), new Evaluation(40_000, 200));
    }

    /** The plan called {@code name}. */
    public static DemoPlan named(String name) {
        return switch (name) {
            case "default" -> standard();
            case "quick" -> quick();
            case "reference" -> reference();
            default -> throw new IllegalArgumentException("unknown plan '" + name + "'; plans: default, quick, reference");
        };
    }

    /** Budgets below the full model: the sizes the family derives from the parent. */
    public List<String> derived() {
        return family.budgets().subList(1, family.budgets().size());
    }

    public void print(PrintStream out) {
        out.printf(Locale.ROOT, "plan '%s': tokenizer vocab %d; parent %s pretrained on %,d tokens (windows %d x %d); importance on "
                        + "%d x %d tokens; one elastic run for budgets %s on %,d tokens; baselines per size: (a) cut, no training; "
                        + "(b) cut + %,d distillation tokens; (c) %,d tokens from scratch; eval on the first %,d held-out tokens%n",
                name, text.vocab(), parent.preset(), parent.tokens(), windows.batch(), windows.seqLen(), importanceSamples,
                windows.seqLen(), family.budgets(), family.tokens(), baselines.minitronTokens(), baselines.scratchTokens(),
                evaluation.textTokens());
    }
}
