package org.nestlm.sizes;

import org.nestlm.model.Architecture;
import org.nestlm.model.LayerKind;
import org.nestlm.model.LayerSpec;
import org.nestlm.model.ModelConfig;

import java.util.List;

/**
 * Resolves the router's preferences to one concrete sub-model: the <b>most likely configuration whose
 * parameter count lies within a tolerance of the target</b>. Likelihood is the sum over axes (and MLP
 * layers, when heterogeneous) of the router's noise-free log-softmax. When the plain per-axis argmax is
 * within the tolerance this is exactly the paper's argmax rule; when it is not — the budget loss constrains
 * the <i>expected</i> size, and a mixture can meet a target its mode misses — the router's next most
 * likely choice that meets the budget is taken instead of a sub-model of the wrong size.
 *
 * <p>Exact search: every combination of the global axes (hidden, Mamba, attention, depth), and for the MLP
 * widths a dynamic program over MLP layers on parameter sums (a knapsack: per reachable sum, the most
 * likely widths).
 */
public final class Resolution {

    private Resolution() {
    }

    /**
     * @param logProbs per axis, [groups][choices] log-probabilities (ordinal order of {@link Axis})
     * @param target   parameter target
     * @param tolerance relative tolerance (0.02 = ±2 %); ≤ 0 gives the plain argmax
     */
    public static ElasticSpace.Choice resolve(ElasticSpace space, double[][][] logProbs, long target, double tolerance) {
        ElasticSpace.Choice argmax = argmax(space, logProbs);
        if (tolerance <= 0 || Math.abs(space.subnet(argmax).parameterCount(space.full().config()) / (double) target - 1) <= tolerance) {
            return argmax;
        }
        ModelConfig c = space.full().config();
        double[] lpE = logProbs[Axis.HIDDEN.ordinal()][0];
        double[] lpM = logProbs[Axis.MAMBA.ordinal()][0];
        double[] lpA = logProbs[Axis.ATTENTION.ordinal()][0];
        double[] lpD = logProbs[Axis.DEPTH.ordinal()][0];
        double[][] lpF = logProbs[Axis.MLP.ordinal()];
        List<Integer> mlpLayers = space.layersOf(LayerKind.MLP);
        long lo = (long) Math.ceil(target * (1 - tolerance)), hi = (long) Math.floor(target * (1 + tolerance));
        double best = Double.NEGATIVE_INFINITY;
        ElasticSpace.Choice bestChoice = null;
        double nearest = Double.POSITIVE_INFINITY;
        ElasticSpace.Choice nearestChoice = argmax;
        for (int e = 0; e < lpE.length; e++) {
            for (int m = 0; m < lpM.length; m++) {
                for (int a = 0; a < lpA.length; a++) {
                    for (int d = 0; d < lpD.length; d++) {
                        double base = lpE[e] + lpM[m] + lpA[a] + lpD[d];
                        if (base <= best) {
                            continue;   // the MLP terms are ≤ 0: cannot beat the best found
                        }
                        Subnet s = space.subnet(new ElasticSpace.Choice(e, new int[space.mlpGroups()], m, a, d));
                        int[] mlp = bestMlp(space, s, mlpLayers, lpF, parametersBesideMlps(space, s), lo, hi);
                        if (mlp != null) {
                            double lp = base + mlpLogProb(space, lpF, mlp);
                            if (lp > best) {
                                best = lp;
                                bestChoice = new ElasticSpace.Choice(e, mlp, m, a, d);
                            }
                        } else {
                            // remember the nearest size in case no configuration meets the tolerance at all
                            ElasticSpace.Choice cand = new ElasticSpace.Choice(e, argmax.mlp(), m, a, d);
                            double dev = Math.abs(space.subnet(cand).parameterCount(c) / (double) target - 1);
                            if (dev < nearest) {
                                nearest = dev;
                                nearestChoice = cand;
                            }
                        }
                    }
                }
            }
        }
        return bestChoice != null ? bestChoice : nearestChoice;
    }

    /**
     * The {@code k} most likely configurations within the tolerance of the target, most likely first: for every
     * combination of the global axes its most likely MLP widths that meet the budget ({@link #bestMlp}). When none
     * meets it, the one configuration {@link #resolve} falls back to.
     */
    public static List<ElasticSpace.Choice> candidates(ElasticSpace space, double[][][] logProbs, long target,
                                                       double tolerance, int k) {
        if (k < 1) {
            throw new IllegalArgumentException("candidates: k must be at least 1, got " + k);
        }
        ElasticSpace.Choice best = resolve(space, logProbs, target, tolerance);
        if (k == 1 || tolerance <= 0) {
            return List.of(best);
        }
        double[][] lpF = logProbs[Axis.MLP.ordinal()];
        List<Integer> mlpLayers = space.layersOf(LayerKind.MLP);
        long lo = (long) Math.ceil(target * (1 - tolerance)), hi = (long) Math.floor(target * (1 + tolerance));
        record Scored(ElasticSpace.Choice choice, double lp) {
        }
        List<Scored> all = new java.util.ArrayList<>();
        int[] n = {logProbs[Axis.HIDDEN.ordinal()][0].length, logProbs[Axis.MAMBA.ordinal()][0].length,
                logProbs[Axis.ATTENTION.ordinal()][0].length, logProbs[Axis.DEPTH.ordinal()][0].length};
        for (int e = 0; e < n[0]; e++) {
            for (int m = 0; m < n[1]; m++) {
                for (int a = 0; a < n[2]; a++) {
                    for (int d = 0; d < n[3]; d++) {
                        Subnet s = space.subnet(new ElasticSpace.Choice(e, new int[space.mlpGroups()], m, a, d));
                        int[] mlp = bestMlp(space, s, mlpLayers, lpF, parametersBesideMlps(space, s), lo, hi);
                        if (mlp != null) {
                            double lp = logProbs[Axis.HIDDEN.ordinal()][0][e] + logProbs[Axis.MAMBA.ordinal()][0][m]
                                    + logProbs[Axis.ATTENTION.ordinal()][0][a] + logProbs[Axis.DEPTH.ordinal()][0][d]
                                    + mlpLogProb(space, lpF, mlp);
                            all.add(new Scored(new ElasticSpace.Choice(e, mlp, m, a, d), lp));
                        }
                    }
                }
            }
        }
        if (all.isEmpty()) {
            return List.of(best);
        }
        all.sort(java.util.Comparator.comparingDouble(Scored::lp).reversed());
        return all.subList(0, Math.min(k, all.size())).stream().map(Scored::choice).toList();
    }

    /** Parameters of sub-model {@code s} outside its MLP layers: what the MLP widths are chosen around. */
    private static long parametersBesideMlps(ElasticSpace space, Subnet s) {
        Architecture full = space.full();
        ModelConfig c = full.config();
        long fixed = Architecture.nonLayerParameterCount(c, s.hiddenSize());
        for (int j = 0; j < full.layers().size(); j++) {
            if (s.kept().get(j) && full.layers().get(j).kind() != LayerKind.MLP) {
                fixed += s.layers().get(j).parameterCount(c, s.hiddenSize());
            }
        }
        return fixed;
    }

    /** Per-axis argmax (the paper's rule). */
    public static ElasticSpace.Choice argmax(ElasticSpace space, double[][][] logProbs) {
        int[][] idx = new int[logProbs.length][];
        for (int ax = 0; ax < logProbs.length; ax++) {
            idx[ax] = new int[logProbs[ax].length];
            for (int g = 0; g < logProbs[ax].length; g++) {
                for (int j = 1; j < logProbs[ax][g].length; j++) {
                    if (logProbs[ax][g][j] > logProbs[ax][g][idx[ax][g]]) {
                        idx[ax][g] = j;
                    }
                }
            }
        }
        return new ElasticSpace.Choice(idx[0][0], idx[1], idx[2][0], idx[3][0], idx[4][0]);
    }

    private static double mlpLogProb(ElasticSpace space, double[][] lpF, int[] mlp) {
        double lp = 0;
        for (int g = 0; g < mlp.length; g++) {
            lp += lpF[g][mlp[g]];
        }
        return lp;
    }

    /**
     * The most likely MLP widths whose total, added to {@code fixed}, lands in [lo, hi]; null if none.
     * Homogeneous: one choice for every layer. Heterogeneous: a DP over layers keyed by the parameter sum.
     */
    private static int[] bestMlp(ElasticSpace space, Subnet s, List<Integer> mlpLayers, double[][] lpF, long fixed, long lo, long hi) {
        ModelConfig c = space.full().config();
        int choices = lpF[0].length;
        if (!space.heterogeneousMlp()) {
            int bestF = -1;
            for (int f = 0; f < choices; f++) {
                long p = fixed;
                for (int j : mlpLayers) {
                    if (s.kept().get(j)) {
                        p += new LayerSpec.Mlp(space.mlpWidth(j, f)).parameterCount(c, s.hiddenSize());
                    }
                }
                if (p >= lo && p <= hi && (bestF < 0 || lpF[0][f] > lpF[0][bestF])) {
                    bestF = f;
                }
            }
            return bestF < 0 ? null : new int[] {bestF};
        }
        // DP: sum → (log-prob, choices); sums are exact longs, so the state count stays small for our sizes
        java.util.Map<Long, double[]> lp = new java.util.HashMap<>();
        java.util.Map<Long, int[]> path = new java.util.HashMap<>();
        lp.put(fixed, new double[] {0});
        path.put(fixed, new int[0]);
        for (int g = 0; g < mlpLayers.size(); g++) {
            int j = mlpLayers.get(g);
            java.util.Map<Long, double[]> nlp = new java.util.HashMap<>();
            java.util.Map<Long, int[]> npath = new java.util.HashMap<>();
            for (var e : lp.entrySet()) {
                for (int f = 0; f < choices; f++) {
                    long sum = e.getKey() + (s.kept().get(j) ? new LayerSpec.Mlp(space.mlpWidth(j, f)).parameterCount(c, s.hiddenSize()) : 0);
                    if (sum > hi) {
                        continue;
                    }
                    double v = e.getValue()[0] + lpF[g][f];
                    double[] cur = nlp.get(sum);
                    if (cur == null || v > cur[0]) {
                        nlp.put(sum, new double[] {v});
                        int[] p = java.util.Arrays.copyOf(path.get(e.getKey()), g + 1);
                        p[g] = f;
                        npath.put(sum, p);
                    }
                }
            }
            lp = nlp;
            path = npath;
        }
        long bestSum = -1;
        for (var e : lp.entrySet()) {
            if (e.getKey() >= lo && (bestSum < 0 || e.getValue()[0] > lp.get(bestSum)[0])) {
                bestSum = e.getKey();
            }
        }
        return bestSum < 0 ? null : path.get(bestSum);
    }
}
