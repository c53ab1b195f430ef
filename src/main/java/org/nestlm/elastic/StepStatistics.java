package org.nestlm.elastic;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nestlm.dist.Communicator;
import org.nestlm.sizes.Budget;

import java.util.List;
import java.util.Locale;

/**
 * What one elastic optimizer step logs: the KD loss per trained budget (the full model's pass beside a draw counts
 * for the 100 % budget), the KD of draws between trained budgets, and the router's budget loss and expected share
 * of the parameters. Summed over this rank's micro-batches, then over ranks in one all-reduce, then divided by the
 * draws when written.
 */
final class StepStatistics {

    private final double[] kd;      // [budgets] summed KD, nats per token
    private final int[] draws;      // [budgets] micro-batches (or full-model passes) behind kd
    private double kdBetween;       // summed KD of draws at interpolated budgets
    private int drawsBetween;
    private double budgetLoss;      // summed |E[P]/P̂ − 1| (0 with searched routing)
    private double expectedFraction; // summed expected parameters / full parameters
    private int routed;             // micro-batches behind budgetLoss and expectedFraction

    StepStatistics(int budgets) {
        kd = new double[budgets];
        draws = new int[budgets];
    }

    /**
     * One micro-batch's results.
     *
     * @param budget     the trained budget it drew (ignored for KD when {@code between})
     * @param between    it drew a budget between two trained ones
     * @param withFull   the full model's pass ran beside it (its KD goes to budget 0, the 100 % budget)
     * @param fullParams parameters of the full model
     */
    void add(Distillation.Step s, int budget, boolean between, boolean withFull, long fullParams) {
        if (withFull) {
            kd[0] += s.fullKd();
            draws[0]++;
        }
        if (between) {
            kdBetween += s.kd();
            drawsBetween++;
        } else {
            kd[budget] += s.kd();
            draws[budget]++;
        }
        budgetLoss += s.budgetLoss();
        expectedFraction += s.expectedParameters() / fullParams;
        routed++;
    }

    /** Every rank's sums, in one all-reduce of [kd…, draws…, kdBetween, drawsBetween, budgetLoss, fraction, routed]. */
    void sumOverRanks(Communicator comm) {
        int n = kd.length;
        double[] sum = new double[2 * n + 5];
        for (int b = 0; b < n; b++) {
            sum[b] = kd[b];
            sum[n + b] = draws[b];
        }
        sum[2 * n] = kdBetween;
        sum[2 * n + 1] = drawsBetween;
        sum[2 * n + 2] = budgetLoss;
        sum[2 * n + 3] = expectedFraction;
        sum[2 * n + 4] = routed;
        comm.sumElementwise(sum);
        for (int b = 0; b < n; b++) {
            kd[b] = sum[b];
            draws[b] = (int) sum[n + b];
        }
        kdBetween = sum[2 * n];
        drawsBetween = (int) sum[2 * n + 1];
        budgetLoss = sum[2 * n + 2];
        expectedFraction = sum[2 * n + 3];
        routed = (int) sum[2 * n + 4];
    }

    /** Mean budget loss over the routed micro-batches. */
    double meanBudgetLoss() {
        return budgetLoss / Math.max(1, routed);
    }

    /**
     * {@code budget_loss}, {@code expected_fraction}, {@code kd_<budget>} per drawn budget, {@code kd_interpolated},
     * and {@code loss}: all KD summed over the step's {@code microBatches}.
     */
    void write(ObjectNode entry, List<Budget> budgets, int microBatches) {
        entry.put("budget_loss", meanBudgetLoss()).put("expected_fraction", expectedFraction / Math.max(1, routed));
        double total = 0;
        for (int b = 0; b < budgets.size(); b++) {
            if (draws[b] > 0) {
                entry.put("kd_" + budgets.get(b).text(), kd[b] / draws[b]);
                total += kd[b];
            }
        }
        if (drawsBetween > 0) {
            entry.put("kd_interpolated", kdBetween / drawsBetween);
            total += kdBetween;
        }
        entry.put("loss", total / microBatches);
    }

    /** {@code 100%=0.123 75%=0.234 …} over the drawn budgets, for the progress line. */
    String kdText(List<Budget> budgets) {
        StringBuilder sb = new StringBuilder();
        for (int b = 0; b < budgets.size(); b++) {
            if (draws[b] > 0) {
                sb.append(String.format(Locale.ROOT, "%s=%.3f ", budgets.get(b).text(), kd[b] / draws[b]));
            }
        }
        return sb.toString().trim();
    }
}
