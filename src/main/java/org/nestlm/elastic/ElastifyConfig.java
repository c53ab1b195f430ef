package org.nestlm.elastic;

import org.nestlm.sizes.Resolution;
import org.nestlm.train.Batching;
import org.nestlm.train.Cadence;
import org.nestlm.train.OptimizerConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * Settings of one elastic distillation run (docs/METHOD.md §6, §7), in named groups; {@link #defaults} is their one
 * source, which {@code nestlm elastify --help} shows. The defaults follow the method's recommendations, scaled down:
 * KD only (forward KL at τ = 1), router LR 50× the model LR with a shared linear warm-up, Gumbel temperature
 * 1 → 0.05 exponentially over stage 1 then held, logit scale 1 → 10 linearly over the run, stage 2 at 4× the context
 * with budget sampling 0.5 / 0.3 / 0.2.
 *
 * @param budgets   trained budgets, any order (stored largest first)
 * @param tokens    student tokens over both stages
 * @param batching  stage-1 sequence length, sequences per micro-batch (one budget per micro-batch), micro-batches
 *                  per optimizer step
 * @param stages    the split into the two stages and stage 2's context and budget sampling
 * @param rates     learning rates of student and router and their warm-up
 * @param optimizer the student's AdamW (the router's: the same betas, no weight decay, no clip)
 * @param routing   the router: its width, its search space and the schedules of its sampling
 * @param objective what the student is trained on besides forward KL
 * @param resolving how a trained budget becomes a sub-model at the end
 * @param cadence   validation (per budget) and checkpoint intervals
 * @param seed      data order, budget draws and Gumbel noise
 */
public record ElastifyConfig(List<String> budgets, long tokens, Batching batching, Stages stages, Rates rates,
                             OptimizerConfig optimizer, Routing routing, Objective objective, Resolving resolving,
                             Cadence cadence, long seed) {

    /**
     * @param stage1Fraction   share of {@code tokens} spent in stage 1 (paper: 65B of 110B ≈ 0.6)
     * @param stage2Multiplier stage-2 sequence length = stage-1 length × this
     * @param stage2Probs      stage-2 sampling probabilities, largest budget first (stage 1 is uniform)
     * @param stage2Split      a stage-2 micro-batch holds {@code batchSize / stage2Split} windows and a stage-2 step
     *                         {@code accumulation × stage2Split} micro-batches, each with its own budget draw: the same
     *                         tokens per step in fewer per pass (1: stage 2 passes {@code stage2Multiplier}× the tokens
     *                         of a stage-1 pass; {@code stage2Multiplier}: every pass of the run holds as many tokens,
     *                         so stage 2 needs no more memory than stage 1)
     */
    public record Stages(double stage1Fraction, int stage2Multiplier, List<Double> stage2Probs, int stage2Split) {

        public Stages {
            stage2Probs = List.copyOf(stage2Probs);
            if (stage1Fraction < 0 || stage1Fraction > 1) {
                throw new IllegalArgumentException("stage-1 fraction must be in [0, 1]");
            }
            if (stage2Multiplier < 1) {
                throw new IllegalArgumentException("the stage-2 multiplier must be at least 1, got " + stage2Multiplier);
            }
            if (stage2Split < 1) {
                throw new IllegalArgumentException("--stage2-split must be at least 1, got " + stage2Split);
            }
        }

        /**
         * 60 % of the tokens in stage 1; stage 2 at 4× the context, sampling {@link #defaultStage2Probs}, its
         * micro-batches as many windows as stage 1's.
         */
        public static Stages defaults(int budgets) {
            return new Stages(0.6, 4, defaultStage2Probs(budgets), 1);
        }
    }

    /**
     * @param modelLr     student learning rate
     * @param routerLr    router learning rate
     * @param warmupSteps linear warm-up of both learning rates (constant afterwards)
     */
    public record Rates(double modelLr, double routerLr, int warmupSteps) {
    }

    /**
     * @param mode             how each trained budget's sub-model is chosen: learned jointly with the student (the
     *                         paper) or searched on the teacher before training ({@link SubnetSearch})
     * @param width            router hidden width (paper: 256)
     * @param heterogeneousMlp one MLP width choice per layer
     * @param tauStart         Gumbel temperature at the start
     * @param tauEnd           temperature reached at the end of stage 1
     * @param scaleStart       router logit scale at the start
     * @param scaleEnd         logit scale at the end of the run
     */
    public record Routing(Mode mode, int width, boolean heterogeneousMlp, double tauStart, double tauEnd, double scaleStart,
                          double scaleEnd) {

        /** How trained budgets get their sub-models (docs/METHOD.md §6, §6.6). */
        public enum Mode {
            /** The paper's: Gumbel-softmax samples, trained with the student by the distillation and budget losses. */
            LEARNED,
            /**
             * Searched: before training, each budget's sub-model is the teacher's best cut ({@link SubnetSearch}); the
             * router is fitted to those choices and frozen (it still routes budgets in between).
             */
            SEARCHED
        }

        public Routing withMode(Mode m) {
            return new Routing(m, width, heterogeneousMlp, tauStart, tauEnd, scaleStart, scaleEnd);
        }
    }

    /**
     * @param ceWeight           weight of an optional next-token CE term (0: KD only, paper Eq 16)
     * @param budgetTolerance    dead zone of the budget loss (0; Megatron-LM uses 0.05)
     * @param interpolationDraws share of micro-batches (below 100 %) trained at a random budget between two adjacent
     *                           trained ones, with the router input interpolated as at deployment (0: only trained
     *                           budgets)
     * @param fullWeight         weight of a second pass beside every micro-batch drawn below 100 %: the full model
     *                           distilled (when 100 % is a trained budget) on the same windows, its KD loss times this
     *                           weight (0: off, as the paper)
     *                           (the sandwich rule of slimmable networks): the shared weights are pulled back to the
     *                           teacher on every step, not only on the draws of the full budget (docs/METHOD.md §7.3)
     */
    public record Objective(double ceWeight, double budgetTolerance, double interpolationDraws, double fullWeight) {
    }

    /**
     * @param tolerance  a budget resolves to the router's most likely sub-model within this relative distance of its
     *                   target ({@link Resolution}; 0.02)
     * @param candidates a trained budget's final sub-model is the one, of the router's this many most likely
     *                   sub-models within the tolerance, whose distillation loss from the teacher is lowest on fixed
     *                   windows of the training data (8; 1: the router's most likely, the paper's rule); see
     *                   docs/REPRODUCIBILITY.md §5
     */
    public record Resolving(double tolerance, int candidates) {

        public Resolving {
            if (candidates < 1) {
                throw new IllegalArgumentException("resolve candidates must be at least 1, got " + candidates);
            }
        }
    }

    public ElastifyConfig {
        budgets = List.copyOf(budgets);
        if (budgets.isEmpty()) {
            throw new IllegalArgumentException("--budgets needs at least one budget");
        }
        if (stages.stage2Probs().size() != budgets.size()) {
            throw new IllegalArgumentException(stages.stage2Probs().size() + " stage-2 probabilities for " + budgets.size()
                    + " budgets");
        }
        if (batching.batchSize() % stages.stage2Split() != 0) {
            throw new IllegalArgumentException("--stage2-split " + stages.stage2Split() + " does not divide --batch "
                    + batching.batchSize() + " (a stage-2 micro-batch holds batch / split windows)");
        }
    }

    /**
     * The defaults for the given budgets and token count: windows of 128 tokens, 8 per micro-batch, 3 micro-batches
     * per step; student LR 1e-3, router LR 5e-2, 20 warm-up steps; AdamW 0.9 / 0.95 without weight decay, clip 1;
     * searched routing (router width {@link Router#DEFAULT_WIDTH}; learned: τ 1 → 0.05, scale 1 → 10); KD only, 30 % interpolated draws,
     * the full model distilled beside every draw at weight 3 (only smaller budgets drawn);
     * resolution within 2 % keeping the best of 8 candidates; validation every 50 steps on 4 batches, a checkpoint
     * every 100, seed 0.
     */
    public static ElastifyConfig defaults(List<String> budgets, long tokens) {
        return new ElastifyConfig(budgets, tokens, new Batching(128, 8, 3), Stages.defaults(budgets.size()),
                new Rates(1e-3, 5e-2, 20), new OptimizerConfig(0.9, 0.95, 0.0, 1.0),
                new Routing(Routing.Mode.SEARCHED, Router.DEFAULT_WIDTH, false, 1.0, 0.05, 1.0, 10.0), new Objective(0.0, 0.0, 0.3, 3.0),
                new Resolving(0.02, 8), new Cadence(50, 4, 100), 0);
    }

    public ElastifyConfig withBatching(Batching b) {
        return new ElastifyConfig(budgets, tokens, b, stages, rates, optimizer, routing, objective, resolving, cadence, seed);
    }

    public ElastifyConfig withStages(Stages s) {
        return new ElastifyConfig(budgets, tokens, batching, s, rates, optimizer, routing, objective, resolving, cadence, seed);
    }

    public ElastifyConfig withRates(Rates r) {
        return new ElastifyConfig(budgets, tokens, batching, stages, r, optimizer, routing, objective, resolving, cadence, seed);
    }

    public ElastifyConfig withOptimizer(OptimizerConfig o) {
        return new ElastifyConfig(budgets, tokens, batching, stages, rates, o, routing, objective, resolving, cadence, seed);
    }

    public ElastifyConfig withRouting(Routing r) {
        return new ElastifyConfig(budgets, tokens, batching, stages, rates, optimizer, r, objective, resolving, cadence, seed);
    }

    public ElastifyConfig withObjective(Objective o) {
        return new ElastifyConfig(budgets, tokens, batching, stages, rates, optimizer, routing, o, resolving, cadence, seed);
    }

    public ElastifyConfig withResolving(Resolving r) {
        return new ElastifyConfig(budgets, tokens, batching, stages, rates, optimizer, routing, objective, r, cadence, seed);
    }

    public ElastifyConfig withCadence(Cadence c) {
        return new ElastifyConfig(budgets, tokens, batching, stages, rates, optimizer, routing, objective, resolving, c, seed);
    }

    public ElastifyConfig withSeed(long s) {
        return new ElastifyConfig(budgets, tokens, batching, stages, rates, optimizer, routing, objective, resolving, cadence, s);
    }

    /** 0.5 / 0.3 / 0.2 for three budgets (the paper's); otherwise weights n, n−1, …, 1 normalised. */
    public static List<Double> defaultStage2Probs(int n) {
        if (n == 3) {
            return List.of(0.5, 0.3, 0.2);
        }
        double total = n * (n + 1) / 2.0;
        List<Double> p = new ArrayList<>();
        for (int i = n; i >= 1; i--) {
            p.add(i / total);
        }
        return p;
    }

    /** Tokens per stage-1 optimizer step. */
    public long stage1TokensPerStep() {
        return batching.tokensPerStep();
    }

    /** Tokens per stage-2 optimizer step: {@code stage2Multiplier}× a stage-1 step. */
    public long stage2TokensPerStep() {
        return stage1TokensPerStep() * stages.stage2Multiplier();
    }

    /** Windows per micro-batch in each stage. */
    public int windowsPerMicroBatch(boolean stage1) {
        return stage1 ? batching.batchSize() : batching.batchSize() / stages.stage2Split();
    }

    /** Micro-batches (budget draws) per optimizer step in each stage. */
    public int microBatches(boolean stage1) {
        return stage1 ? batching.accumulation() : batching.accumulation() * stages.stage2Split();
    }

    /** Stage-2 sequence length. */
    public int stage2SeqLen() {
        return batching.seqLen() * stages.stage2Multiplier();
    }

    public int stage1Steps() {
        return (int) (tokens * stages.stage1Fraction() / stage1TokensPerStep());
    }

    public int stage2Steps() {
        return (int) (tokens * (1 - stages.stage1Fraction()) / stage2TokensPerStep());
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
        return routing.tauStart() * Math.pow(routing.tauEnd() / routing.tauStart(), progress);
    }

    /** Router logit scale: linear from scaleStart to scaleEnd over the whole run. */
    public double scale(int step) {
        int total = Math.max(1, totalSteps() - 1);
        return routing.scaleStart() + (routing.scaleEnd() - routing.scaleStart()) * Math.min(1.0, (double) step / total);
    }

    /** Linear warm-up factor shared by both learning rates; constant afterwards. */
    public double warmup(int step) {
        int warmupSteps = rates.warmupSteps();
        return warmupSteps <= 0 ? 1.0 : Math.min(1.0, (step + 1.0) / warmupSteps);
    }
}
