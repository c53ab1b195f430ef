package org.nestlm.infer;

/**
 * The acceptance rule of speculative sampling, as a pure function so it can be checked on hand-made
 * distributions: a draft token d ~ q is kept with probability min(1, p(d)/q(d)); otherwise the answer is a
 * draw from the residual norm(max(0, p − q)). The result is distributed exactly as p:
 * P(x) = q(x)·min(1, p(x)/q(x)) + (1 − Σ_y min(p(y), q(y)))·max(0, p(x) − q(x))/Σ_y max(0, p(y) − q(y)) = p(x).
 */
final class SpeculativeSampling {

    private SpeculativeSampling() {
    }

    /** The verified token and whether it is the draft's own. */
    record Outcome(boolean accepted, int token) {
    }

    /**
     * @param p      target distribution [V]
     * @param q      draft distribution [V] that {@code d} was drawn from
     * @param uAccept uniform draw in [0, 1) for the accept test
     * @param uResample uniform draw in [0, 1) for the residual draw
     */
    static Outcome verify(double[] p, double[] q, int d, double uAccept, double uResample) {
        if (q[d] <= 0 || uAccept * q[d] < p[d]) {      // u < p/q without dividing; q(d) = 0 cannot be drawn
            return new Outcome(true, d);
        }
        double[] residual = new double[p.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            residual[i] = Math.max(0, p[i] - q[i]);
            sum += residual[i];
        }
        // p = q up to rounding: any draw from p is right
        return new Outcome(false, Sampler.draw(sum > 0 ? residual : p, uResample));
    }
}
