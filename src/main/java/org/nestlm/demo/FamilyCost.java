package org.nestlm.demo;

import java.util.List;

/**
 * Tokens to obtain the derived sizes of the family from the parent (the paper's Table 2 at our scale) and the
 * deployment memory of the family (Table 3), from the demo's plan and the measured parameter counts.
 *
 * <p>Token counts are training tokens of the models being trained (teacher forward passes are not counted, as in
 * the paper). The Minitron-style baseline does no architecture search here (it reuses the elastic run's sub-models),
 * so its exploratory cost is 0 — the comparison favours it; the paper's Minitron-SSM spent 480B exploratory tokens.
 *
 * @param elastic  the one elastic run (all budgets at once)
 * @param minitron baseline (b): per derived size, distillation alone
 * @param scratch  baseline (c): per derived size, pretraining from scratch
 * @param derived  number of derived sizes
 */
public record FamilyCost(long elastic, long minitron, long scratch, int derived) {

    /** The training tokens of the demo's runs, from the settings the demo runs them with (one process). */
    public static FamilyCost of(DemoPlan p) {
        org.nestlm.elastic.ElastifyConfig e = Demo.elastifyConfig(p, 0, 1);
        long elastic = e.tokensAfter(e.totalSteps());                       // both stages, stage 2 at its longer context
        Minitron.Settings m = Demo.minitronSettings(p, 0, 1);
        long minitronEach = m.steps() * m.tokensPerStep();
        org.nestlm.train.PretrainConfig scratch = Demo.pretrainConfig(p, p.baselines().scratchTokens(), 0, 1);
        long scratchEach = scratch.totalSteps() * scratch.tokensPerStep();
        int n = p.derived().size();
        return new FamilyCost(elastic, n * minitronEach, n * scratchEach, n);
    }

    /** BF16 bytes of the elastic checkpoint (every size in one) versus separate checkpoints of every size. */
    public record Memory(long elasticBytes, long metadataBytes, long separateBytes, List<Long> parameters) {
        public double saving() {
            return 1 - (double) (elasticBytes + metadataBytes) / separateBytes;
        }
    }

    /** @param parameters parameter count of every size, largest (the full model) first */
    public static Memory memory(List<Long> parameters, long metadataBytes) {
        long separate = parameters.stream().mapToLong(v -> 2 * v).sum();
        return new Memory(2 * parameters.getFirst(), metadataBytes, separate, List.copyOf(parameters));
    }
}
