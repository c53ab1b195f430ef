package org.nestlm.eval;

import java.util.Map;

/**
 * Minimal-pair accuracy: the share of pairs where log P(good) > log P(bad), overall and per paradigm.
 *
 * @param data        what was scored
 * @param correct     pairs decided correctly
 * @param pairs       pairs scored
 * @param byParadigm  per paradigm (file order): {correct, pairs}
 */
public record BlimpScore(String data, long correct, long pairs, Map<String, long[]> byParadigm) {

    /** Accuracy over all pairs. */
    public double accuracy() {
        return (double) correct / pairs;
    }

    /** The unweighted mean of the per-paradigm accuracies (BLiMP's headline number). */
    public double meanParadigmAccuracy() {
        return byParadigm.values().stream().mapToDouble(v -> (double) v[0] / v[1]).average().orElse(Double.NaN);
    }
}
