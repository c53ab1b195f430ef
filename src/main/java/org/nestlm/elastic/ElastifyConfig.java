package org.nestlm.elastic;

import org.nestlm.sizes.Resolution;

import java.util.List;

/**
 * Settings of one elastic distillation run (docs/METHOD.md §6, §7). Defaults follow the method's
 * recommendations, scaled down: KD only (forward KL at τ = 1), router LR 100× the model LR with a shared
 * linear warm-up, Gumbel temperature 1 → 0.05 exponentially over stage 1 then held, logit scale 1 → 10
 * linearly over the run, stage 2 at 4× the context with budget sampling 0.5 / 0.3 / 0.2.
 *
 * @param budgets          trained budgets, any order (stored largest first)
 * @param tokens           student tokens over both stages
 * @param stage1Fraction   share of {@code tokens} spent in stage 1 (paper: 65B of 110B ≈ 0.6)
 * @param seqLen           stage-1 sequence length
 * @param stage2Multiplier stage-2 sequence length = seqLen × this
 * @param batchSize        sequences per micro-batch (one budget per micro-batch)
 * @param accumulation     micro-batches per optimizer step
 * @param modelLr          student learning rate
 * @param routerLr         router learning rate
 * @param warmupSteps      linear warm-up of both learning rates
 * @param weightDecay      student weight decay (router: none)
 * @param clipNorm         global gradient-norm clip for the student
 * @param stage2Probs      stage-2 sampling probabilities, largest budget first (stage 1 is uniform)
 * @param tauStart         Gumbel temperature at the start
 * @param tauEnd           temperature reached at the end of stage 1
 * @param scaleStart       router logit scale at the start
 * @param scaleEnd         logit scale at the end of the run
 * @param ceWeight         weight of an optional next-token CE term (0: KD only, paper Eq 16)
 * @param budgetTolerance  dead zone of the budget loss (0; Megatron-LM uses 0.05)
 * @param resolveTolerance a budget resolves to the router's most likely sub-model within this relative distance
 *                         of its target ({@link Resolution}; 0.02)
 * @param resolveCandidates a trained budget's final sub-model is the one, of the router's this many most likely
 *                         sub-models within the tolerance, whose distillation loss from the teacher is lowest on fixed
 *                         windows of the training data (8; 1: the router's most likely, the paper's rule); see
 *                         docs/REPRODUCIBILITY.md §5
 * @param interpolationDraws share of micro-batches (below 100 %) trained at a random budget between two adjacent
 *                         trained ones, with the router input interpolated as at deployment (0: only trained budgets)
 * @param heterogeneousMlp one MLP width choice per layer
 * @param routerWidth      router hidden width (paper: 256)
 * @param evalEvery        optimizer steps between validations
 * @param evalBatches      validation micro-batches per budget
 * @param checkpointEvery  optimizer steps between resumable checkpoints
 * @param seed             data order, budget draws and Gumbel noise
 */
public record ElastifyConfig(List<String> budgets, long tokens, double stage1Fraction, int seqLen, int stage2Multiplier,
                             int batchSize, int accumulation, double modelLr, double routerLr, int warmupSteps,
                             double weightDecay, double clipNorm, List<Double> stage2Probs, double tauStart, double tauEnd,
                             double scaleStart, double scaleEnd, double ceWeight, double budgetTolerance, double resolveTolerance,
                             int resolveCandidates, double interpolationDraws, boolean heterogeneousMlp, int routerWidth, int evalEvery, int evalBatches, int checkpointEvery,
                             long seed) {

    public ElastifyConfig {
        budgets = List.copyOf(budgets);
        stage2Probs = List.copyOf(stage2Probs);
        if (budgets.isEmpty()) {
            throw new IllegalArgumentException("--budgets needs at least one budget");
        }
        if (stage1Fraction < 0 || stage1Fraction > 1) {
            throw new IllegalArgumentException("stage-1 fraction must be in [0, 1]");
        }
        if (resolveCandidates < 1) {
            throw new IllegalArgumentException("resolve candidates must be at least 1, got " + resolveCandidates);
        }
        if (stage2Probs.size() != budgets.size()) {
            throw new IllegalArgumentException(stage2Probs.size() + " stage-2 probabilities for " + budgets.size() + " budgets");
        }
    }

    /** Defaults for the given budgets and token count. */
    public static ElastifyConfig defaults(List<String> budgets, long tokens) {
        return new ElastifyConfig(budgets, tokens, 0.6, 128, 4, 8, 1, 1e-3, 1e-1, 20, 0.0, 1.0,
                defaultStage2Probs(budgets.size()), 1.0, 0.05, 1.0, 10.0, 0.0, 0.0, 0.02, 8, 0.3, false, Router.DEFAULT_WIDTH, 50, 4, 100, 0);
    }

    /** 0.5 / 0.3 / 0.2 for three budgets (the paper's); otherwise weights n, n−1, …, 1 normalised. */
    public static List<Double> defaultStage2Probs(int n) {
        if (n == 3) {
            return List.of(0.5, 0.3, 0.2);
        }
        double total = n * (n + 1) / 2.0;
        List<Double> p = new java.util.ArrayList<>();
        for (int i = n; i >= 1; i--) {
            p.add(i / total);
        }
        return p;
    }

    /** Tokens per stage-1 optimizer step. */
    public long stage1TokensPerStep() {
        return (long) seqLen * batchSize * accumulation;
    }

    public long stage2TokensPerStep() {
        return stage1TokensPerStep() * stage2Multiplier;
    }

    public int stage1Steps() {
        return (int) (tokens * stage1Fraction / stage1TokensPerStep());
    }

    public int stage2Steps() {
        return (int) (tokens * (1 - stage1Fraction) / stage2TokensPerStep());
    }

    public int totalSteps() {
        return stage1Steps() + stage2Steps();
    }

    /** Student tokens seen after {@code steps} optimizer steps (stage-2 steps are {@code stage2Multiplier}× longer). */
    public long tokensAfter(int steps) {
        int s1 = Math.min(steps, stage1Steps());
        return s1 * stage1TokensPerStep() + (long) (steps - s1) * stage2TokensPerStep();
    }

    /** Gumbel temperature: exponential from tauStart to tauEnd over stage 1, then held. */
    public double tau(int step) {
        int s1 = Math.max(1, stage1Steps());
        double progress = Math.min(1.0, (double) step / s1);
        return tauStart * Math.pow(tauEnd / tauStart, progress);
    }

    /** Router logit scale: linear from scaleStart to scaleEnd over the whole run. */
    public double scale(int step) {
        int total = Math.max(1, totalSteps() - 1);
        return scaleStart + (scaleEnd - scaleStart) * Math.min(1.0, (double) step / total);
    }

    /** Linear warm-up factor shared by both learning rates; constant afterwards. */
    public double warmup(int step) {
        return warmupSteps <= 0 ? 1.0 : Math.min(1.0, (step + 1.0) / warmupSteps);
    }
}
