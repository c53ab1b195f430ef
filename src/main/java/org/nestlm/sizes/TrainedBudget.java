package org.nestlm.sizes;

/**
 * One budget of an elastic checkpoint: what was asked, and the sub-model the router resolved it to.
 *
 * @param budget     as given ({@code 0.5}, {@code 3M})
 * @param target     parameter target
 * @param subnet     the resolved nested sub-model (router argmax, no noise)
 * @param parameters exact parameter count of {@code subnet}
 * @param trained    false for budgets resolved by interpolating the router input between trained ones
 */
public record TrainedBudget(String budget, long target, Subnet subnet, long parameters, boolean trained) {

    /** Relative deviation of the resolved size from the target, e.g. 0.013 for 1.3 % over. */
    public double deviation() {
        return (double) parameters / target - 1;
    }
}
