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

    public static FamilyCost of(DemoPlan p) {
        long step = (long) p.seqLen() * p.batch();
        // the elastic run's step counts, as ElastifyConfig computes them (stage 1: 60 % at seqLen, stage 2 at 4×)
        long s1 = (long) (p.elastifyTokens() * 0.6 / step), s2 = (long) (p.elastifyTokens() * 0.4 / (4 * step));
        long elastic = s1 * step + s2 * 4 * step;
        long minitronEach = Math.max(1, p.minitronTokens() / step) * step;
        long scratchEach = p.pretrainTokens() / step * step;
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
