package org.nestlm.demo;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/**
 * The sizes of every stage of a demo run. {@link #standard()} is sized for well under 15 minutes on 2 cores from
 * measured throughput (tiny preset, 2 threads, quiet machine: pretraining about 8 k tokens/s, distillation about
 * 5–8 k tokens/s);
 * {@link #quick()} for about 2 minutes on the built-in corpus (CI).
 *
 * @param name              {@code default} or {@code quick}
 * @param builtinOnly       train on the built-in corpus even when the default corpus can be fetched
 * @param vocab             tokenizer vocabulary
 * @param preset            parent model preset (vocab_size follows the tokenizer)
 * @param pretrainTokens    parent pretraining tokens; also what each from-scratch baseline (c) gets
 * @param seqLen            training window of pretraining, distillation and validation
 * @param batch             sequences per step
 * @param pretrainEvalEvery steps between validations of pretraining
 * @param pretrainWarmup    linear warm-up steps of pretraining (parent and from scratch)
 * @param importanceSamples calibration sequences of the importance ranking
 * @param budgets           elastic budgets, largest first
 * @param elastifyTokens    student tokens of the one elastic run (both stages)
 * @param distillLr         learning rate of the elastic run and of the Minitron-style baselines
 * @param distillWarmup     warm-up steps of both
 * @param distillEvalEvery  steps between validations of both
 * @param minitronTokens    tokens of each Minitron-style (b) run, per size
 * @param evalTokens        held-out tokens scored per model and text set (0 = all)
 * @param blimpPairs        BLiMP pairs per paradigm (0 = all)
 */
public record DemoPlan(String name, boolean builtinOnly, int vocab, String preset, long pretrainTokens, int seqLen, int batch,
                       int pretrainEvalEvery, int pretrainWarmup, int importanceSamples, List<String> budgets, long elastifyTokens, double distillLr,
                       int distillWarmup, int distillEvalEvery, long minitronTokens, long evalTokens, int blimpPairs) {

    public static DemoPlan standard() {
        return new DemoPlan("default", false, 512, "tiny", 1_000_000, 128, 8, 100, 30, 64, List.of("1.0", "0.75", "0.5"),
                240_000, 1e-3, 10, 40, 150_000, 40_000, 100);
    }

    public static DemoPlan quick() {
        return new DemoPlan("quick", true, 320, "tiny", 20_480, 64, 8, 20, 5, 8, List.of("1.0", "0.75", "0.5"),
                6_144, 1e-3, 2, 8, 6_144, 4_000, 20);
    }

    /** Budgets below the full model: the sizes the family derives from the parent. */
    public List<String> derived() {
        return budgets.subList(1, budgets.size());
    }

    public void print(PrintStream out) {
        out.printf(Locale.ROOT, "plan '%s': tokenizer vocab %d; parent %s pretrained on %,d tokens (windows %d x %d); importance on "
                        + "%d x %d tokens; one elastic run for budgets %s on %,d tokens; baselines per size: (a) cut, no training; "
                        + "(b) cut + %,d distillation tokens; (c) %,d tokens from scratch; eval on the first %,d held-out tokens%n",
                name, vocab, preset, pretrainTokens, batch, seqLen, importanceSamples, seqLen, budgets, elastifyTokens,
                minitronTokens, pretrainTokens, evalTokens);
    }
}
